// https_server: a small HTTPS server, Beast's HTTP over asio::ssl::stream<asio_uring::tcp_stream>,
// one coroutine per connection, keep-alive. GET / is an HTML page, GET /hello is
// "Hello over TLS" (text/plain), anything else 404.
//   https_server [--port N] --cert FILE --key FILE   (PEM; port 0: any; the bound one is printed)
// The TLS handshake, each request, each response and the TLS shutdown have kernel-enforced
// deadlines (the tcp_stream's expiry). Stops on SIGINT or SIGTERM.
#include <asio_uring.hpp>
#include <asio_uring/beast.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using asio_uring::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto handshake_deadline = std::chrono::seconds(10);
constexpr auto request_deadline = std::chrono::seconds(30); // idle keep-alive included
constexpr auto response_deadline = std::chrono::seconds(30);
constexpr auto shutdown_deadline = std::chrono::seconds(5);

using tls_stream = ssl::stream<asio_uring::tcp_stream>;

constexpr std::string_view index_page = R"(<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>asio-uring over TLS</title></head>
<body>
<h1>asio-uring https_server</h1>
<p>Beast's HTTP over asio::ssl::stream over asio_uring::tcp_stream. Try <a href="/hello">/hello</a>.</p>
</body>
</html>
)";

http::response<http::string_body> answer(const http::request<http::string_body>& req) {
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::server, "asio-uring https_server");
  if (req.method() == http::verb::get && req.target() == "/") {
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.body() = index_page;
  } else if (req.method() == http::verb::get && req.target() == "/hello") {
    res.set(http::field::content_type, "text/plain");
    res.body() = "Hello over TLS";
  } else {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "text/plain");
    res.body() = "Not found: " + std::string(req.target()) + "\n";
  }
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

asio::awaitable<void> session(tcp::socket socket, ssl::context& tls) {
  tls_stream stream(asio_uring::tcp_stream(std::move(socket)), tls);
  auto& tcp_layer = beast::get_lowest_layer(stream); // the asio_uring::tcp_stream
  tcp_layer.expires_after(handshake_deadline);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
  if (hec) { // not TLS (plain HTTP, say), a bad client hello, or too slow: just close
    std::fprintf(stderr, "https_server: TLS handshake: %s\n", hec.message().c_str());
    co_return;
  }
  beast::flat_buffer buffer; // in the coroutine frame: alive until every operation completed
  for (;;) {
    tcp_layer.expires_after(request_deadline);
    http::request<http::string_body> req;
    auto [rec, rn] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (rec == http::error::end_of_stream) // the client closed its side: say goodbye below
      break;
    if (rec) { // a timeout or a reset (the socket is closed), or a malformed request
      if (rec != beast::error::timeout && rec != asio::error::connection_reset &&
          rec != ssl::error::stream_truncated)
        std::fprintf(stderr, "https_server: read: %s\n", rec.message().c_str());
      co_return;
    }
    auto res = answer(req);
    tcp_layer.expires_after(response_deadline);
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    if (wec) {
      std::fprintf(stderr, "https_server: write: %s\n", wec.message().c_str());
      co_return;
    }
    if (res.need_eof()) // the client asked to close (Connection: close, or HTTP/1.0)
      break;
  }
  // TLS close_notify, and the peer's, within a deadline. Clients that just close the TCP
  // connection (curl does) end this with eof or stream_truncated, which is fine.
  tcp_layer.expires_after(shutdown_deadline);
  co_await stream.async_shutdown(use_tuple);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, ssl::context& tls) {
  for (;;) {
    auto [ec, s] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) // the acceptor was closed: shutting down
      co_return;
    if (ec) { // e.g. out of file descriptors: say so, and give connections time to close
      std::fprintf(stderr, "https_server: accept: %s\n", ec.message().c_str());
      asio_uring::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    s.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), session(std::move(s), tls), asio::detached);
  }
}

int main(int argc, char** argv) {
  unsigned short port = 8443;
  const char* cert = nullptr;
  const char* key = nullptr;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view opt = argv[i];
    if (opt == "--port" && i + 1 < argc)
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    else if (opt == "--cert" && i + 1 < argc)
      cert = argv[++i];
    else if (opt == "--key" && i + 1 < argc)
      key = argv[++i];
    else
      ok = false;
  }
  if (!ok || !cert || !key) {
    std::fprintf(stderr, "usage: https_server [--port N] --cert FILE --key FILE\n");
    return 2;
  }
  try {
    ssl::context tls(ssl::context::tls_server);
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::single_dh_use);
    tls.use_certificate_chain_file(cert);
    tls.use_private_key_file(key, ssl::context::pem);

    asio_uring::io_context ctx;
    tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
    asio_uring::signal_set signals(ctx, SIGINT, SIGTERM);
    signals.async_wait([&](error_code, int) {
      acceptor.close(); // the accept loop ends with operation_aborted
      ctx.stop();       // sessions still open are cancelled when ctx is destroyed
    });
    std::printf("https_server: listening on https://127.0.0.1:%u/\n",
                acceptor.local_endpoint().port());
    std::fflush(stdout);
    asio::co_spawn(ctx, accept_loop(acceptor, tls), asio::detached);
    ctx.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "https_server: %s\n", e.what());
    return 1;
  }
}
