<%@ page contentType="text/plain; charset=UTF-8" import="java.sql.Connection,java.util.*,javax.naming.*,javax.sql.DataSource" %><%--
  Borrow n connections from a pool and keep them, as a HIS whose requests hang on slow queries would:
  hold.jsp?pool=his&n=3. release.jsp gives every held connection back. --%><%
String pool = request.getParameter("pool");
int n = Integer.parseInt(request.getParameter("n"));
DataSource ds = (DataSource) new InitialContext().lookup("java:comp/env/jdbc/" + pool);
synchronized (application) {
  @SuppressWarnings("unchecked")
  List<Connection> held = (List<Connection>) application.getAttribute("held");
  if (held == null) { held = new ArrayList<>(); application.setAttribute("held", held); }
  for (int i = 0; i < n; i++) { held.add(ds.getConnection()); }
  out.print(held.size());
}
%>
