// websocket_echo: a WebSocket echo server, Beast's websocket::stream over asio_uring::tcp_stream,
// one coroutine per connection. Text comes back as text, binary as binary; a close frame from
// the client ends the session with Beast's closing handshake (and asio_uring's teardown).
//   websocket_echo [--port N]   (port 0: any; prints "websocket_echo: listening on ws://...")
// The opening handshake has a kernel-enforced deadline (the tcp_stream's expiry); after it,
// Beast's own WebSocket timeouts take over. Stops on SIGINT or SIGTERM.
#include <asio_uring.hpp>
#include <asio_uring/beast.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio_uring::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto handshake_deadline = std::chrono::seconds(10);

asio::awaitable<void> session(tcp::socket socket) {
  websocket::stream<asio_uring::tcp_stream> ws(asio_uring::tcp_stream(std::move(socket)));
  // The HTTP upgrade request and the response: one deadline, enforced by the kernel.
  beast::get_lowest_layer(ws).expires_after(handshake_deadline);
  ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(beast::http::field::server, "asio-uring websocket_echo");
  }));
  auto [aec] = co_await ws.async_accept(use_tuple);
  if (aec) { // not a WebSocket upgrade, or too slow: the stream's destructor closes the socket
    std::fprintf(stderr, "websocket_echo: handshake: %s\n", aec.message().c_str());
    co_return;
  }
  // From here on Beast's timeouts (idle pings, close handshake deadline), not the stream's.
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));

  beast::flat_buffer buffer; // in the coroutine frame: alive until every operation completed
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
    if (ec == websocket::error::closed) // the client's close frame was answered: done
      co_return;
    if (ec) {
      std::fprintf(stderr, "websocket_echo: read: %s\n", ec.message().c_str());
      co_return;
    }
    ws.text(ws.got_text()); // the echo has the type of the message received
    auto [wec, wn] = co_await ws.async_write(buffer.data(), use_tuple);
    if (wec) {
      std::fprintf(stderr, "websocket_echo: write: %s\n", wec.message().c_str());
      co_return;
    }
    buffer.consume(buffer.size());
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, s] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) // the acceptor was closed: shutting down
      co_return;
    if (ec) { // e.g. out of file descriptors: say so, and give connections time to close
      std::fprintf(stderr, "websocket_echo: accept: %s\n", ec.message().c_str());
      asio_uring::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    s.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), session(std::move(s)), asio::detached);
  }
}

int main(int argc, char** argv) {
  unsigned short port = 8080;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view opt = argv[i];
    if (opt == "--port" && i + 1 < argc)
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    else
      ok = false;
  }
  if (!ok) {
    std::fprintf(stderr, "usage: websocket_echo [--port N]\n");
    return 2;
  }
  try {
    asio_uring::io_context ctx;
    tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
    asio_uring::signal_set signals(ctx, SIGINT, SIGTERM);
    signals.async_wait([&](error_code, int) {
      acceptor.close(); // the accept loop ends with operation_aborted
      ctx.stop();       // sessions still open are cancelled when ctx is destroyed
    });
    std::printf("websocket_echo: listening on ws://127.0.0.1:%u/\n",
                acceptor.local_endpoint().port());
    std::fflush(stdout);
    asio::co_spawn(ctx, accept_loop(acceptor), asio::detached);
    ctx.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "websocket_echo: %s\n", e.what());
    return 1;
  }
}
