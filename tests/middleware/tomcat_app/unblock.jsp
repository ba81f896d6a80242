<%@ page contentType="text/plain; charset=UTF-8" import="java.util.concurrent.*" %><%
synchronized (application) {
  CountDownLatch gate = (CountDownLatch) application.getAttribute("gate");
  if (gate != null) { gate.countDown(); application.removeAttribute("gate"); }
}
out.print("ok");
%>
