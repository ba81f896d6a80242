<%@ page contentType="text/plain; charset=UTF-8" import="java.sql.Connection,java.util.*" %><%
synchronized (application) {
  @SuppressWarnings("unchecked")
  List<Connection> held = (List<Connection>) application.getAttribute("held");
  int n = 0;
  if (held != null) { for (Connection c : held) { c.close(); n++; } held.clear(); }
  out.print(n);
}
%>
