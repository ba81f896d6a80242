<%@ page contentType="text/plain; charset=UTF-8" import="java.util.concurrent.*" %><%--
  Keep a request thread busy until unblock.jsp is called (at most 60 s): a registration clerk's request
  stuck behind a locked table. --%><%
CountDownLatch gate;
synchronized (application) {
  gate = (CountDownLatch) application.getAttribute("gate");
  if (gate == null) { gate = new CountDownLatch(1); application.setAttribute("gate", gate); }
}
out.print(gate.await(60, TimeUnit.SECONDS) ? "released" : "timed out");
%>
