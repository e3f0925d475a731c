// Beast over asio_uring: HTTP on a socket and on tcp_stream, kernel-enforced timeouts (linked
// timeouts never taken for the op's result), WebSocket with teardown and Beast's own idle
// timeout. Clients are Beast's synchronous ones on a plain boost::asio::io_context thread.
#include "fixtures.hpp"
#include "socket_fixtures.hpp"

#include <asio_uring/beast.hpp>
#include <asio_uring/detail/scheduler_probe.hpp>
#include <asio_uring/ip/tcp.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/test/unit_test.hpp>

#include <linux/io_uring.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <fcntl.h>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio_uring::ip::tcp;
using namespace asio_uring::test;
using namespace std::chrono_literals;

static_assert(beast::is_async_stream<tcp::socket>::value);
static_assert(beast::is_sync_stream<tcp::socket>::value);
static_assert(beast::is_async_stream<asio_uring::tcp_stream>::value);
static_assert(beast::is_sync_stream<asio_uring::tcp_stream>::value);
static_assert(std::is_same_v<beast::lowest_layer_type<websocket::stream<asio_uring::tcp_stream>>,
                             asio_uring::tcp_stream>);
static_assert(std::is_same_v<asio_uring::tcp_stream::lowest_layer_type, tcp::socket>);

namespace {

// As error_codes, which Boost.Test can print.
const beast::error_code timed_out = beast::error::timeout;
const beast::error_code ws_closed = websocket::error::closed;

tcp::endpoint loopback_any() {
  return {asio::ip::address_v4::loopback(), 0};
}

/// Beast's synchronous HTTP client on its own thread and boost::asio::io_context: sends
/// `targets` over one keep-alive connection and collects the responses.
struct sync_http_client {
  std::vector<http::response<http::string_body>> responses;
  std::string error;
  std::thread thread;

  sync_http_client(unsigned short port, std::vector<std::string> targets) {
    thread = std::thread([this, port, targets = std::move(targets)] {
      try {
        asio::io_context ioc;
        beast::tcp_stream stream(ioc);
        stream.connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port));
        beast::flat_buffer buffer;
        for (const auto& t : targets) {
          http::request<http::string_body> req{http::verb::get, t, 11};
          req.set(http::field::host, "localhost");
          http::write(stream, req);
          http::response<http::string_body> res;
          http::read(stream, buffer, res);
          responses.push_back(std::move(res));
        }
        beast::error_code ec;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
  }
  ~sync_http_client() {
    if (thread.joinable())
      thread.join();
  }
};

/// Serves `count` requests on `stream` (keep-alive): the body echoes the target.
template <class Stream>
asio::awaitable<void> serve_http(Stream& stream, int count, int* served) {
  beast::flat_buffer buffer;
  for (int i = 0; i < count; ++i) {
    http::request<http::string_body> req;
    auto [ec, n] =
        co_await http::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
    if (ec)
      co_return;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.body() = "you asked for " + std::string(req.target());
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    BOOST_TEST(!wec);
    ++*served;
  }
}

/// A raw blocking loopback client socket (no Asio), for peers that misbehave on purpose.
struct raw_client {
  int fd = -1;
  explicit raw_client(unsigned short port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ::sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_TEST_REQUIRE(::connect(fd, reinterpret_cast<::sockaddr*>(&a), sizeof a) == 0);
  }
  ~raw_client() { ::close(fd); }
  void send(std::string_view s) const {
    BOOST_TEST_REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size()));
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(beast_stream_tests)

BOOST_AUTO_TEST_CASE(http_keep_alive_over_socket_with_beast_sync_client) {
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, loopback_any());
  int served = 0;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        tcp::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
        co_await serve_http(peer, 3, &served);
      },
      asio::detached);
  sync_http_client client(acceptor.local_endpoint().port(), {"/a", "/b", "/c"});
  run_bounded(ctx);
  client.thread.join();
  BOOST_TEST(client.error == "");
  BOOST_TEST_REQUIRE(client.responses.size() == 3u);
  BOOST_TEST(client.responses[1].body() == "you asked for /b");
  BOOST_TEST(client.responses[2].result_int() == 200);
  BOOST_TEST(served == 3);
}

BOOST_AUTO_TEST_CASE(http_over_tcp_stream_with_deadline_far_away) {
  // Thousands of operations each linked to a kernel timeout that does not fire: every result
  // is the operation's own (a linked timeout's CQE is never taken for it, PITFALLS 19).
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, loopback_any());
  int served = 0;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        asio_uring::tcp_stream stream(co_await acceptor.async_accept(asio::use_awaitable));
        stream.expires_after(30s);
        co_await serve_http(stream, 500, &served);
      },
      asio::detached);
  std::vector<std::string> targets;
  for (int i = 0; i < 500; ++i)
    targets.push_back("/item/" + std::to_string(i));
  sync_http_client client(acceptor.local_endpoint().port(), targets);
  run_bounded(ctx, 30s);
  client.thread.join();
  BOOST_TEST(client.error == "");
  BOOST_TEST_REQUIRE(client.responses.size() == 500u);
  for (int i = 0; i < 500; ++i)
    BOOST_TEST(client.responses[std::size_t(i)].body() ==
               "you asked for " + targets[std::size_t(i)]);
  BOOST_TEST(served == 500);
}

BOOST_AUTO_TEST_CASE(silent_client_times_out_and_socket_is_closed) {
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, loopback_any());
  raw_client silent(acceptor.local_endpoint().port());
  asio_uring::tcp_stream stream(acceptor.accept());
  stream.expires_after(200ms);
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  beast::error_code result;
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration took{};
  http::async_read(stream, buffer, req, [&](beast::error_code ec, std::size_t) {
    result = ec;
    took = std::chrono::steady_clock::now() - start;
  });
  run_bounded(ctx);
  BOOST_TEST(result == timed_out);
  BOOST_TEST(took >= 190ms);
  BOOST_TEST(took < 5s);
  BOOST_TEST(!stream.socket().is_open());
  char c;
  BOOST_TEST(::recv(silent.fd, &c, 1, 0) == 0); // the server closed: the client sees EOF
}

BOOST_AUTO_TEST_CASE(slowloris_is_closed_at_the_request_deadline) {
  // One byte every 50 ms never completes a request: each read starts before the deadline, and
  // the whole request still ends there (the deadline is absolute, not per read).
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, loopback_any());
  raw_client slow(acceptor.local_endpoint().port());
  asio_uring::tcp_stream stream(acceptor.accept());
  stream.expires_after(400ms);
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  beast::error_code result;
  bool done = false;
  http::async_read(stream, buffer, req, [&](beast::error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  std::string request = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < request.size() && !done; ++i) {
    if (::send(slow.fd, &request[i], 1, MSG_NOSIGNAL) != 1)
      break;
    ctx.restart();
    ctx.run_for(50ms);
  }
  ctx.restart();
  run_bounded(ctx);
  auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST(result == timed_out);
  BOOST_TEST(took < 2s);
  BOOST_TEST(!stream.socket().is_open());
}

BOOST_AUTO_TEST_CASE(send_to_a_client_that_stops_reading_times_out) {
  const int fds_before = open_fd_count();
  {
    asio_uring::io_context ctx;
    tcp::acceptor acceptor(ctx, loopback_any());
    raw_client stuck(acceptor.local_endpoint().port());
    int small = 4096;
    ::setsockopt(stuck.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    asio_uring::tcp_stream stream(acceptor.accept());
    stream.expires_after(300ms);
    http::response<http::string_body> res{http::status::ok, 11};
    res.body() = std::string(32 << 20, 'x'); // far more than both socket buffers hold
    res.prepare_payload();
    beast::error_code result;
    std::size_t written = 0;
    http::async_write(stream, res, [&](beast::error_code ec, std::size_t n) {
      result = ec;
      written = n;
    });
    run_bounded(ctx);
    BOOST_TEST(result == timed_out);
    BOOST_TEST(written < res.body().size());
    BOOST_TEST(!stream.socket().is_open());
    BOOST_TEST(ctx.abandoned_operations() == 0u);
  }
  BOOST_TEST(open_fd_count() == fds_before); // nothing of the stalled connection is left
}

BOOST_AUTO_TEST_CASE(owned_buffers_through_tcp_stream) {
  asio_uring::io_context ctx;
  auto [server, client] = connected_pair(ctx);
  asio_uring::tcp_stream a(std::move(server)), b(std::move(client));
  a.expires_after(10s);
  b.expires_after(10s);
  std::string got;
  b.async_write_some(std::string("owned hello"),
                     [&](beast::error_code ec, std::size_t n, std::string back) {
                       BOOST_TEST(!ec);
                       BOOST_TEST(n == 11u);
                       BOOST_TEST(back == "owned hello");
                     });
  a.async_read_some(std::string(64, '\0'), [&](beast::error_code ec, std::size_t n, std::string s) {
    BOOST_TEST(!ec);
    got = s.substr(0, n);
  });
  run_bounded(ctx);
  BOOST_TEST(got == "owned hello");

  // An owned read that times out hands its buffer back.
  a.expires_after(100ms);
  std::string back;
  beast::error_code result;
  a.async_read_some(std::string(1000, 'k'), [&](beast::error_code ec, std::size_t, std::string s) {
    result = ec;
    back = std::move(s);
  });
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(result == timed_out);
  BOOST_TEST(back == std::string(1000, 'k'));
}

BOOST_AUTO_TEST_CASE(expiry_in_the_past_fails_at_once_and_never_means_never) {
  asio_uring::io_context ctx;
  auto [server, client] = connected_pair(ctx);
  asio_uring::tcp_stream a(std::move(server));
  a.expires_at(std::chrono::steady_clock::now() - 1s);
  char buf[16];
  beast::error_code result;
  bool inline_call = true;
  a.async_read_some(asio::buffer(buf), [&](beast::error_code ec, std::size_t n) {
    BOOST_TEST(!inline_call); // never invoked inside the initiating call
    BOOST_TEST(n == 0u);
    result = ec;
  });
  inline_call = false;
  run_bounded(ctx);
  BOOST_TEST(result == timed_out);
  BOOST_TEST(!a.socket().is_open());

  // expires_never: a read waits past any earlier deadline and gets its data.
  auto [s2, c2] = connected_pair(ctx);
  asio_uring::tcp_stream b(std::move(s2));
  b.expires_after(1ms);
  b.expires_never();
  std::size_t got = 0;
  b.async_read_some(asio::buffer(buf), [&](beast::error_code ec, std::size_t n) {
    BOOST_TEST(!ec);
    got = n;
  });
  ctx.restart();
  ctx.run_for(100ms);
  c2.send(asio::buffer("late", 4));
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(got == 4u);
}

BOOST_AUTO_TEST_CASE(cancel_before_deadline_is_operation_aborted) {
  asio_uring::io_context ctx;
  auto [server, client] = connected_pair(ctx);
  asio_uring::tcp_stream a(std::move(server));
  a.expires_after(30s);
  char buf[16];
  beast::error_code result;
  a.async_read_some(asio::buffer(buf), [&](beast::error_code ec, std::size_t) { result = ec; });
  ctx.run_for(20ms);
  a.cancel();
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(result == asio::error::operation_aborted);
  BOOST_TEST(a.socket().is_open());
}

BOOST_AUTO_TEST_CASE(connect_with_deadline_to_a_full_backlog_times_out) {
  asio_uring::io_context ctx;
  tcp::acceptor full(ctx, tcp::v4());
  full.bind(loopback_any());
  full.listen(0);
  std::vector<tcp::socket> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.emplace_back(ctx, tcp::v4());
    ::fcntl(fillers.back().native_handle(), F_SETFL, O_NONBLOCK);
    ::connect(fillers.back().native_handle(), full.local_endpoint().data(),
              static_cast<socklen_t>(full.local_endpoint().size()));
  }
  asio_uring::tcp_stream stream(ctx);
  stream.expires_after(300ms);
  beast::error_code result;
  stream.async_connect(full.local_endpoint(), [&](beast::error_code ec) { result = ec; });
  run_bounded(ctx);
  BOOST_TEST(result == timed_out);

  // A resolver's results: the first endpoint refuses, the second accepts.
  tcp::acceptor open(ctx, loopback_any());
  tcp::acceptor closing(ctx, loopback_any());
  auto refused_port = closing.local_endpoint().port();
  closing.close();
  std::vector<tcp::endpoint> endpoints{{asio::ip::address_v4::loopback(), refused_port},
                                       open.local_endpoint()};
  asio_uring::tcp_stream s2(ctx);
  s2.expires_after(10s);
  tcp::endpoint chosen;
  s2.async_connect(endpoints, [&](beast::error_code ec, tcp::endpoint ep) {
    BOOST_TEST(!ec);
    chosen = ep;
  });
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(chosen == open.local_endpoint());
}

BOOST_AUTO_TEST_CASE(deadline_racing_data_gives_one_result_and_the_buffer_back) {
  // 300 rounds: a read whose kernel deadline falls within microseconds of its data arriving.
  // Each ends exactly once, either with the data or with timeout, and the owned buffer always
  // comes back; the block outlives both CQEs (ASan and the invariant checks watch it).
  asio_uring::io_context ctx;
  std::mt19937 rng(20261124);
  std::printf("beast_stream_tests/deadline_racing_data: seed 20261124\n");
  int got_data = 0, timed_out_count = 0;
  for (int round = 0; round < 300; ++round) {
    auto [server, client] = connected_pair(ctx);
    asio_uring::tcp_stream stream(std::move(server));
    stream.expires_after(std::chrono::microseconds(rng() % 4000));
    int completions = 0;
    beast::error_code result;
    std::string back;
    std::size_t n = 0;
    stream.async_read_some(std::string(16, '.'),
                           [&](beast::error_code ec, std::size_t got, std::string b) {
                             ++completions;
                             result = ec;
                             n = got;
                             back = std::move(b);
                           });
    // The read and its linked timeout go into the kernel now; the data follows a little later
    // (the timeout may already have closed the socket: then the send may fail, ignored).
    ctx.restart();
    ctx.run_for(std::chrono::milliseconds(1 + rng() % 4));
    boost::system::error_code ignored;
    client.send(asio::buffer("x", 1), 0, ignored);
    ctx.restart();
    run_bounded(ctx);
    BOOST_TEST_REQUIRE(completions == 1);
    BOOST_TEST_REQUIRE(back.size() == 16u);
    if (!result) {
      BOOST_TEST(n == 1u);
      BOOST_TEST(back[0] == 'x');
      ++got_data;
    } else {
      BOOST_TEST(result == timed_out);
      BOOST_TEST(back == std::string(16, '.'));
      ++timed_out_count;
    }
  }
  BOOST_TEST_MESSAGE("data " << got_data << ", timeout " << timed_out_count);
  BOOST_TEST(got_data + timed_out_count == 300);
  BOOST_TEST(got_data > 0); // both outcomes happen: the race is real
  BOOST_TEST(timed_out_count > 0);
}

BOOST_AUTO_TEST_CASE(deadline_is_one_linked_kernel_timeout_whose_cqe_is_never_the_result) {
  // On a ring the kernel never sees (detail::scheduler_probe): a read with a deadline is one
  // RECV SQE with IOSQE_IO_LINK followed by one IORING_OP_LINK_TIMEOUT at the absolute deadline
  // (no timer object). Then every pair of CQEs the kernel may post, in both orders: the handler
  // runs once, at the op's own CQE, with the op's result; the block lives until both arrived.
  struct pair_case {
    const char* what;
    int op_res, timeout_res;
    bool deadline_passed;
    beast::error_code expected;
    std::size_t expected_n;
  };
  const pair_case cases[] = {
      {"data, timeout cancelled", 5, -ECANCELED, false, {}, 5},
      {"data, timeout fired too late to cancel it", 7, -ETIME, true, {}, 7},
      {"data, timeout could not cancel it", 3, -EALREADY, true, {}, 3},
      {"end of stream", 0, -ECANCELED, false, asio::error::eof, 0},
      {"reset", -ECONNRESET, -ECANCELED, false, asio::error::connection_reset, 0},
      {"the timeout cancelled the op", -ECANCELED, -ETIME, true, timed_out, 0},
  };
  for (const pair_case& c : cases)
    for (bool timeout_first : {false, true}) {
      BOOST_TEST_CONTEXT(c.what << (timeout_first ? ", timeout's CQE first" : ", op's CQE first")) {
        asio_uring::io_context ctx;
        auto [server, client] = connected_pair(ctx);
        asio_uring::detail::scheduler_probe probe(ctx.impl());
        asio_uring::tcp_stream stream(std::move(server));
        const auto wait = c.deadline_passed ? 2ms : 30s;
        ::timespec before{};
        ::clock_gettime(CLOCK_MONOTONIC, &before);
        stream.expires_after(wait);
        char buf[16];
        int calls = 0;
        beast::error_code got;
        std::size_t got_n = 99;
        stream.async_read_some(asio::buffer(buf), [&](beast::error_code ec, std::size_t n) {
          ++calls;
          got = ec;
          got_n = n;
        });
        auto sqes = probe.take_prepared();
        BOOST_TEST_REQUIRE(sqes.size() == 2u);
        BOOST_TEST(sqes[0].opcode == IORING_OP_RECV);
        BOOST_TEST((sqes[0].flags & IOSQE_IO_LINK) != 0);
        BOOST_TEST(sqes[1].opcode == IORING_OP_LINK_TIMEOUT);
        BOOST_TEST((sqes[1].timeout_flags & IORING_TIMEOUT_ABS) != 0);
        const auto* ts = reinterpret_cast<const __kernel_timespec*>(sqes[1].addr);
        const std::int64_t at = ts->tv_sec * 1'000'000'000 + ts->tv_nsec;
        const std::int64_t earliest =
            before.tv_sec * 1'000'000'000 + before.tv_nsec + std::chrono::nanoseconds(wait).count();
        BOOST_TEST(at >= earliest); // CLOCK_MONOTONIC, as IORING_TIMEOUT_ABS reads it
        BOOST_TEST(at < earliest + 1'000'000'000);
        if (c.deadline_passed)
          std::this_thread::sleep_for(5ms);

        const std::uint64_t op = sqes[0].user_data, timeout = sqes[1].user_data;
        if (timeout_first) {
          probe.deliver(timeout, c.timeout_res, 0);
          BOOST_TEST(calls == 0); // the timeout's CQE is not the op's result
          BOOST_TEST(probe.blocks_started_not_freed() == 1u);
          probe.deliver(op, c.op_res, 0);
        } else {
          probe.deliver(op, c.op_res, 0);
          BOOST_TEST(calls == 1);
          BOOST_TEST(probe.blocks_started_not_freed() == 1u); // the timeout may still read it
          probe.deliver(timeout, c.timeout_res, 0);
        }
        BOOST_TEST(calls == 1);
        BOOST_TEST(got == c.expected);
        BOOST_TEST(got_n == c.expected_n);
        BOOST_TEST(probe.blocks_started_not_freed() == 0u);
        // A timeout closes the socket; otherwise it stays open.
        BOOST_TEST(stream.socket().is_open() == (c.expected != timed_out));
        stream.close();
        for (const auto& cancel : probe.take_prepared()) // the close's cancel, answered
          probe.deliver(cancel.user_data, 0, 0);
        BOOST_TEST(probe.shutdown() == 0u);
      }
    }
}

BOOST_AUTO_TEST_CASE(context_destroyed_with_linked_timeouts_in_flight) {
  const int fds_before = open_fd_count();
  {
    asio_uring::io_context ctx;
    tcp::acceptor acceptor(ctx, loopback_any());
    std::vector<tcp::socket> clients;
    std::vector<asio_uring::tcp_stream> streams;
    for (int i = 0; i < 100; ++i) {
      clients.emplace_back(ctx);
      clients.back().connect(acceptor.local_endpoint());
      streams.emplace_back(acceptor.accept());
      streams.back().expires_after(60s);
      streams.back().async_read_some(std::string(256, '\0'),
                                     [](beast::error_code, std::size_t, std::string) {
                                       BOOST_FAIL("a handler ran at shutdown");
                                     });
    }
    ctx.run_for(20ms); // the reads and their linked timeouts are in the kernel
  }
  BOOST_TEST(open_fd_count() == fds_before);
}

BOOST_AUTO_TEST_CASE(websocket_echo_and_close_over_tcp_stream) {
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, loopback_any());
  int echoed = 0;
  beast::error_code server_end;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        websocket::stream<asio_uring::tcp_stream> ws(
            asio_uring::tcp_stream(co_await acceptor.async_accept(asio::use_awaitable)));
        beast::get_lowest_layer(ws).expires_after(10s); // the handshake's deadline
        co_await ws.async_accept(asio::use_awaitable);
        beast::get_lowest_layer(ws).expires_never(); // Beast's own timeouts from here on
        ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        beast::flat_buffer buffer;
        for (;;) {
          auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
          if (ec) {
            server_end = ec;
            co_return;
          }
          ws.text(ws.got_text());
          co_await ws.async_write(buffer.data(), asio::use_awaitable);
          buffer.consume(buffer.size());
          ++echoed;
        }
      },
      asio::detached);
  unsigned short port = acceptor.local_endpoint().port();
  std::string client_error;
  std::vector<std::string> replies;
  std::thread client([&] {
    try {
      asio::io_context ioc;
      websocket::stream<beast::tcp_stream> ws(ioc);
      beast::get_lowest_layer(ws).connect(
          asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port));
      ws.handshake("localhost", "/");
      for (int i = 0; i < 20; ++i) {
        ws.binary(i % 2 == 1);
        ws.write(asio::buffer("message " + std::to_string(i)));
        beast::flat_buffer b;
        ws.read(b);
        replies.push_back(beast::buffers_to_string(b.data()));
      }
      // Throws unless the server answers the close frame and then tears the TCP connection
      // down (async_teardown for asio_uring's socket: the client reads EOF).
      ws.close(websocket::close_code::normal);
    } catch (const std::exception& e) {
      client_error = e.what();
    }
  });
  run_bounded(ctx, 20s);
  client.join();
  BOOST_TEST(client_error == "");
  BOOST_TEST_REQUIRE(replies.size() == 20u);
  BOOST_TEST(replies[7] == "message 7");
  BOOST_TEST(echoed == 20);
  BOOST_TEST(server_end == ws_closed);
}

BOOST_AUTO_TEST_CASE(websocket_idle_timeout_uses_asio_timer_on_our_executor) {
  // Beast's WebSocket idle timeout is an asio::steady_timer built on our executor: Asio's
  // reactor path (the slow path) must still fire it.
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, loopback_any());
  beast::error_code server_end;
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration took{};
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        websocket::stream<tcp::socket> ws(co_await acceptor.async_accept(asio::use_awaitable));
        websocket::stream_base::timeout opt{};
        opt.handshake_timeout = 5s;
        opt.idle_timeout = 300ms;
        opt.keep_alive_pings = false;
        ws.set_option(opt);
        co_await ws.async_accept(asio::use_awaitable);
        start = std::chrono::steady_clock::now();
        beast::flat_buffer buffer;
        auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
        took = std::chrono::steady_clock::now() - start;
        server_end = ec;
      },
      asio::detached);
  unsigned short port = acceptor.local_endpoint().port();
  std::thread client([&] {
    asio::io_context ioc;
    websocket::stream<asio::ip::tcp::socket> ws(ioc);
    ws.next_layer().connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port));
    ws.handshake("localhost", "/");
    beast::flat_buffer b;
    beast::error_code ec;
    ws.read(b, ec); // the server gives up on us and closes
  });
  run_bounded(ctx, 20s);
  client.join();
  BOOST_TEST(server_end == timed_out);
  BOOST_TEST(took >= 250ms);
  BOOST_TEST(took < 5s);
}

BOOST_AUTO_TEST_CASE(websocket_handshake_timeout_uses_asio_timer_on_our_executor) {
  // A client that connects and never sends the upgrade request: Beast's handshake timeout (an
  // asio::steady_timer on our executor) ends the accept, and the connection is closed.
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, loopback_any());
  raw_client silent(acceptor.local_endpoint().port());
  websocket::stream<tcp::socket> ws(acceptor.accept());
  websocket::stream_base::timeout opt{};
  opt.handshake_timeout = 300ms;
  opt.idle_timeout = websocket::stream_base::none();
  opt.keep_alive_pings = false;
  ws.set_option(opt);
  beast::error_code result;
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration took{};
  ws.async_accept([&](beast::error_code ec) {
    result = ec;
    took = std::chrono::steady_clock::now() - start;
  });
  run_bounded(ctx);
  BOOST_TEST(result == timed_out);
  BOOST_TEST(took >= 250ms);
  BOOST_TEST(took < 5s);
  BOOST_TEST(!ws.next_layer().is_open());
  char c;
  BOOST_TEST(::recv(silent.fd, &c, 1, 0) == 0); // the client sees the connection end
}

BOOST_AUTO_TEST_CASE(synchronous_http_and_websocket_on_our_socket) {
  // Beast's synchronous API over asio_uring's socket (blocking calls, no run()): HTTP
  // request/response, then a WebSocket session closed with the synchronous teardown.
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, loopback_any());
  unsigned short port = acceptor.local_endpoint().port();
  std::string client_error, http_body, ws_reply;
  std::thread client([&] {
    try {
      asio::io_context ioc;
      asio::ip::tcp::endpoint ep(asio::ip::address_v4::loopback(), port);
      beast::tcp_stream stream(ioc);
      stream.connect(ep);
      http::request<http::string_body> req{http::verb::post, "/sync", 11};
      req.body() = std::string(100000, 'p');
      req.prepare_payload();
      http::write(stream, req);
      beast::flat_buffer buffer;
      http::response<http::string_body> res;
      http::read(stream, buffer, res);
      http_body = res.body();

      websocket::stream<asio::ip::tcp::socket> ws(ioc);
      ws.next_layer().connect(ep);
      ws.handshake("localhost", "/");
      ws.write(asio::buffer(std::string("ping over a blocking socket")));
      beast::flat_buffer b;
      ws.read(b);
      ws_reply = beast::buffers_to_string(b.data());
      ws.read(b); // the server closes: Beast answers the close frame and reads EOF
    } catch (const beast::system_error& e) {
      if (e.code() != ws_closed)
        client_error = e.what();
    } catch (const std::exception& e) {
      client_error = e.what();
    }
  });

  tcp::socket peer = acceptor.accept();
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  http::read(peer, buffer, req);
  BOOST_TEST(req.body().size() == 100000u);
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.body() =
      "got " + std::to_string(req.body().size()) + " bytes at " + std::string(req.target());
  res.prepare_payload();
  http::write(peer, res);

  websocket::stream<tcp::socket> ws(acceptor.accept());
  ws.accept();
  beast::flat_buffer b;
  ws.read(b);
  ws.text(ws.got_text());
  ws.write(b.data());
  ws.close(websocket::close_code::normal); // synchronous teardown of asio_uring's socket
  client.join();
  BOOST_TEST(client_error == "");
  BOOST_TEST(http_body == "got 100000 bytes at /sync");
  BOOST_TEST(ws_reply == "ping over a blocking socket");
  BOOST_TEST(!ws.next_layer().is_open());
}

BOOST_AUTO_TEST_CASE(tcp_stream_from_an_executor_release_socket_and_close) {
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, loopback_any());
  asio_uring::tcp_stream stream(ctx.get_executor());
  BOOST_TEST(!stream.socket().is_open());
  stream.expires_after(10s);
  beast::error_code connected = asio::error::would_block;
  stream.async_connect(acceptor.local_endpoint(), [&](beast::error_code ec) { connected = ec; });
  run_bounded(ctx);
  BOOST_TEST(!connected);
  tcp::socket peer = acceptor.accept();

  // release_socket: the socket leaves open and working, the stream keeps none.
  tcp::socket released = stream.release_socket();
  BOOST_TEST(released.is_open());
  BOOST_TEST(!stream.socket().is_open());
  released.send(asio::buffer("released", 8));
  char buf[16];
  BOOST_TEST(peer.receive(asio::buffer(buf)) == 8u);

  // close() on a stream with a pending read: operation_aborted, the peer sees EOF.
  asio_uring::tcp_stream again(std::move(released));
  again.expires_after(10s);
  beast::error_code read_result;
  again.async_read_some(asio::buffer(buf),
                        [&](beast::error_code ec, std::size_t) { read_result = ec; });
  ctx.restart();
  ctx.run_for(20ms);
  again.close();
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(read_result == asio::error::operation_aborted);
  BOOST_TEST(!again.socket().is_open());
  boost::system::error_code eof;
  peer.receive(asio::buffer(buf), 0, eof);
  BOOST_TEST(eof == asio::error::eof);
}

BOOST_AUTO_TEST_SUITE_END()
