// TCP sockets and acceptors: owned and borrowed I/O, stream semantics (order, EOF, SIGPIPE),
// close/cancel, accept hand-over, connect paths.
#include "fixtures.hpp"
#include "socket_fixtures.hpp"

#include <asio_uring/connect.hpp>
#include <asio_uring/ip/tcp.hpp>
#include <asio_uring/read.hpp>
#include <asio_uring/write.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <thread>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio_uring::ip::tcp;
using namespace asio_uring::test;

BOOST_AUTO_TEST_SUITE(tcp_socket_tests)

BOOST_AUTO_TEST_CASE(protocol_type_ports_by_namespace_change) {
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, tcp::endpoint(tcp::v4(), 0));
  tcp::socket client(ctx);
  tcp::resolver resolver(ctx);
  auto results = resolver.resolve("127.0.0.1", std::to_string(acceptor.local_endpoint().port()));
  tcp::endpoint connected;
  asio_uring::async_connect(client, results, [&](boost::system::error_code ec, tcp::endpoint ep) {
    BOOST_TEST(!ec);
    connected = ep;
  });
  bool accepted = false;
  acceptor.async_accept([&](boost::system::error_code ec, tcp::socket peer) {
    BOOST_TEST(!ec);
    BOOST_TEST(peer.is_open());
    BOOST_TEST(peer.remote_endpoint().port() == client.local_endpoint().port());
    accepted = true;
  });
  run_bounded(ctx);
  BOOST_TEST(accepted);
  BOOST_TEST(connected.port() == acceptor.local_endpoint().port());
  BOOST_TEST(connected.address() == asio::ip::address_v4::loopback());
  // Options are Asio's types.
  client.set_option(tcp::no_delay(true));
  tcp::no_delay nd;
  client.get_option(nd);
  BOOST_TEST(nd.value());
  asio_uring::socket_base::reuse_port rp(true);
  tcp::acceptor other(ctx, tcp::v4());
  other.set_option(rp);
}

BOOST_AUTO_TEST_CASE(available_io_control_and_sync_non_blocking) {
  asio_uring::io_context ctx;
  auto [a, b] = connected_pair(ctx);
  BOOST_TEST(!a.native_non_blocking()); // never O_NONBLOCK under io_uring
  boost::system::error_code ec;
  a.native_non_blocking(true, ec);
  BOOST_TEST(ec == asio::error::operation_not_supported);
  a.non_blocking(true); // Asio's user-level mode: synchronous calls do not wait
  char buf[16];
  a.receive(asio::buffer(buf), 0, ec);
  BOOST_TEST(ec == asio::error::would_block);
  b.send(asio::buffer("12345", 5));
  for (int i = 0; i < 100 && a.available() < 5; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  BOOST_TEST(a.available() == 5u);
  tcp::socket::bytes_readable readable;
  a.io_control(readable);
  BOOST_TEST(readable.get() == 5u);
  BOOST_TEST(a.receive(asio::buffer(buf)) == 5u);
  int fd = a.release(); // ownership leaves the socket
  BOOST_TEST(!a.is_open());
  BOOST_TEST(::close(fd) == 0);
}

BOOST_AUTO_TEST_CASE(executor_of_another_context_is_rejected) {
  asio::io_context asio_ctx;
  BOOST_CHECK_THROW(tcp::socket s(asio_ctx.get_executor()), std::invalid_argument);
}

BOOST_FIXTURE_TEST_CASE(owned_echo_and_eof, tracked_fixture) {
  asio_uring::io_context ctx;
  auto [a, b] = connected_pair(ctx);
  b.async_write_some(tracked_buffer(1000, std::byte{7}),
                     [&](boost::system::error_code ec, std::size_t n, tracked_buffer buf) {
                       BOOST_TEST(!ec);
                       BOOST_TEST(n == 1000u);
                       BOOST_TEST(buf.size() == 1000u);
                       b.shutdown(tcp::socket::shutdown_send);
                     });
  std::size_t got = 0;
  bool eof = false;
  std::function<void()> read_more = [&] {
    a.async_read_some(tracked_buffer(300),
                      [&](boost::system::error_code ec, std::size_t n, tracked_buffer buf) {
                        BOOST_TEST(buf.size() == 300u); // the same storage, same size
                        if (ec == asio::error::eof) {
                          eof = true;
                          return;
                        }
                        BOOST_TEST(!ec);
                        for (std::size_t i = 0; i < n; ++i)
                          BOOST_TEST((buf.data()[i] == std::byte{7}));
                        got += n;
                        read_more();
                      });
  };
  read_more();
  run_bounded(ctx);
  BOOST_TEST(got == 1000u);
  BOOST_TEST(eof);
}

BOOST_AUTO_TEST_CASE(borrowed_api_works_with_asio_composed_ops) {
  asio_uring::io_context ctx;
  auto [a, b] = connected_pair(ctx);
  std::string msg = "hello\r\nworld";
  // The classic unqualified call: ADL finds both asio::async_write (through the buffer) and
  // asio_uring::async_write (through the socket); only Asio's accepts a buffer view.
  async_write(b, asio::buffer(msg.data(), msg.size()),
              [&](boost::system::error_code ec, std::size_t n) {
                BOOST_TEST(!ec);
                BOOST_TEST(n == msg.size());
                b.shutdown(tcp::socket::shutdown_send);
              });
  asio::streambuf sb;
  std::string line, rest(5, '\0');
  asio::async_read_until(a, sb, "\r\n", [&](boost::system::error_code ec, std::size_t n) {
    BOOST_TEST(!ec);
    line.assign(asio::buffers_begin(sb.data()), asio::buffers_begin(sb.data()) + n);
    sb.consume(n);
    std::size_t have = sb.size();
    asio::buffer_copy(asio::buffer(rest), sb.data());
    asio::async_read(a, asio::buffer(rest.data() + have, rest.size() - have),
                     [&](boost::system::error_code ec2, std::size_t) { BOOST_TEST(!ec2); });
  });
  run_bounded(ctx);
  BOOST_TEST(line == "hello\r\n");
  BOOST_TEST(rest == "world");
}

BOOST_AUTO_TEST_CASE(sends_queued_back_to_back_arrive_in_order) {
  asio_uring::io_context ctx;
  auto [a, b] = connected_pair(ctx);
  constexpr int sends = 200;
  constexpr std::size_t chunk = 64 * 1024; // large: the kernel splits and parks sends
  int completed = 0;
  for (int i = 0; i < sends; ++i)
    b.async_send(std::vector<std::uint8_t>(chunk, static_cast<std::uint8_t>(i)),
                 [&, i](boost::system::error_code ec, std::size_t n, std::vector<std::uint8_t>) {
                   BOOST_TEST(!ec);
                   BOOST_TEST(n > 0u);
                   BOOST_TEST(completed == i); // handlers in submission order too
                   ++completed;
                 });
  // Short writes would be the caller's to resume; on a blocking socket the kernel sends all.
  std::vector<std::uint8_t> all;
  std::function<void()> read_more = [&] {
    a.async_receive(std::vector<std::uint8_t>(256 * 1024),
                    [&](boost::system::error_code ec, std::size_t n, std::vector<std::uint8_t> v) {
                      BOOST_TEST_REQUIRE(!ec);
                      all.insert(all.end(), v.begin(), v.begin() + static_cast<long>(n));
                      if (all.size() < sends * chunk)
                        read_more();
                    });
  };
  read_more();
  run_bounded(ctx, std::chrono::seconds(30));
  BOOST_TEST(completed == sends);
  BOOST_TEST_REQUIRE(all.size() == sends * chunk);
  for (int i = 0; i < sends; ++i)
    BOOST_TEST_REQUIRE(all[static_cast<std::size_t>(i) * chunk] == static_cast<std::uint8_t>(i));
}

BOOST_AUTO_TEST_CASE(write_to_closed_peer_is_epipe_not_sigpipe) {
  // Default SIGPIPE disposition: a send without MSG_NOSIGNAL would kill the test process.
  auto old = std::signal(SIGPIPE, SIG_DFL);
  asio_uring::io_context ctx;
  auto [a, b] = connected_pair(ctx);
  a.close();
  boost::system::error_code last;
  int sends = 0;
  std::function<void()> send_more = [&] {
    b.async_send(std::string(65536, 'x'),
                 [&](boost::system::error_code ec, std::size_t, std::string) {
                   ++sends;
                   last = ec;
                   if (!ec && sends < 100)
                     send_more();
                 });
  };
  send_more();
  run_bounded(ctx);
  std::signal(SIGPIPE, old);
  BOOST_TEST((last == asio::error::broken_pipe || last == asio::error::connection_reset));
}

BOOST_FIXTURE_TEST_CASE(close_cancels_in_flight_and_queued_ops, tracked_fixture) {
  asio_uring::io_context ctx;
  auto [a, b] = connected_pair(ctx);
  int aborted = 0;
  for (int i = 0; i < 3; ++i) // one in the kernel, two queued behind it
    a.async_receive(tracked_buffer(64),
                    [&](boost::system::error_code ec, std::size_t n, tracked_buffer buf) {
                      BOOST_TEST(ec == asio::error::operation_aborted);
                      BOOST_TEST(n == 0u);
                      BOOST_TEST(buf.size() == 64u); // the buffer comes back
                      ++aborted;
                    });
  ctx.poll();
  a.close();
  run_bounded(ctx);
  BOOST_TEST(aborted == 3);
}

BOOST_FIXTURE_TEST_CASE(cancel_keeps_socket_usable, tracked_fixture) {
  asio_uring::io_context ctx;
  auto [a, b] = connected_pair(ctx);
  bool aborted = false, got = false;
  a.async_receive(
      tracked_buffer(64), [&](boost::system::error_code ec, std::size_t, tracked_buffer) {
        aborted = ec == asio::error::operation_aborted;
        b.send(asio::buffer("ping", 4));
        a.async_receive(tracked_buffer(64), [&](boost::system::error_code ec2, std::size_t n,
                                                tracked_buffer) { got = !ec2 && n == 4; });
      });
  ctx.poll();
  a.cancel();
  run_bounded(ctx);
  BOOST_TEST(aborted);
  BOOST_TEST(got);
}

BOOST_AUTO_TEST_CASE(reused_fd_number_never_sees_old_completion) {
  asio_uring::io_context ctx;
  auto [a, b] = connected_pair(ctx);
  int old_fd = a.native_handle();
  boost::system::error_code old_ec;
  a.async_receive(std::string(16, '\0'),
                  [&](boost::system::error_code ec, std::size_t, std::string) { old_ec = ec; });
  ctx.poll();
  a.close();
  // The next socket very likely gets the same number.
  auto [c, d] = connected_pair(ctx);
  bool fresh = false;
  BOOST_TEST_MESSAGE("old fd " << old_fd << ", new fds " << c.native_handle() << " "
                               << d.native_handle());
  c.async_receive(std::string(16, '\0'),
                  [&](boost::system::error_code ec, std::size_t n, std::string s) {
                    fresh = !ec && s.substr(0, n) == "new";
                  });
  d.send(asio::buffer("new", 3));
  run_bounded(ctx);
  BOOST_TEST(old_ec == asio::error::operation_aborted);
  BOOST_TEST(fresh);
}

BOOST_AUTO_TEST_CASE(accept_into_given_socket_and_endpoint) {
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket peer(ctx), client(ctx);
  tcp::endpoint peer_ep;
  bool ok = false;
  acceptor.async_accept(peer, peer_ep, [&](boost::system::error_code ec) {
    ok = !ec && peer.is_open() && peer_ep == client.local_endpoint();
  });
  client.async_connect(acceptor.local_endpoint(),
                       [&](boost::system::error_code ec) { BOOST_TEST(!ec); });
  run_bounded(ctx);
  BOOST_TEST(ok);
  // An open peer is refused without starting anything.
  boost::system::error_code ec2;
  acceptor.async_accept(peer, [&](boost::system::error_code ec) { ec2 = ec; });
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(ec2 == asio::error::already_open);
}

BOOST_AUTO_TEST_CASE(accept_racing_its_cancel_hands_over_or_aborts_nothing_leaks) {
  // Many rounds of: a connection arrives while the accept is being cancelled. Either the
  // handler gets the socket, or operation_aborted and the connection stays for the next accept.
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  int fds_before = open_fd_count();
  int handed_over = 0, aborted = 0;
  std::vector<tcp::socket> clients;
  for (int round = 0; round < 200; ++round) {
    asio::cancellation_signal sig;
    tcp::socket client(ctx);
    client.connect(acceptor.local_endpoint());
    acceptor.async_accept(
        asio::bind_cancellation_slot(sig.slot(), [&](boost::system::error_code ec, tcp::socket s) {
          if (!ec) {
            BOOST_TEST(s.is_open());
            ++handed_over;
          } else {
            BOOST_TEST(ec == asio::error::operation_aborted);
            ++aborted;
          }
        }));
    if (round % 2)
      ctx.poll_one();
    sig.emit(asio::cancellation_type::total);
    ctx.restart();
    ctx.poll();
    clients.push_back(std::move(client));
  }
  BOOST_TEST(handed_over + aborted == 200);
  // Connections not handed out are still there to accept.
  int rest = 0;
  for (int i = handed_over; i < 200; ++i)
    acceptor.async_accept([&](boost::system::error_code ec, tcp::socket) {
      BOOST_TEST(!ec);
      ++rest;
    });
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(handed_over + rest == 200);
  clients.clear(); // closed off the running thread: close(2) happens when the context runs
  ctx.restart();
  ctx.poll();
  BOOST_TEST(open_fd_count() == fds_before);
}

BOOST_AUTO_TEST_CASE(connection_refused_and_connect_cancelled) {
  asio_uring::io_context ctx;
  tcp::endpoint closed_port;
  {
    tcp::acceptor tmp(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closed_port = tmp.local_endpoint();
  }
  tcp::socket s(ctx);
  boost::system::error_code refused;
  s.async_connect(closed_port, [&](boost::system::error_code ec) { refused = ec; });
  run_bounded(ctx);
  BOOST_TEST(refused == asio::error::connection_refused);

  // A listener whose backlog is full drops SYNs: the connect hangs until cancelled.
  tcp::acceptor full(ctx, tcp::v4());
  full.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  full.listen(0);
  std::vector<tcp::socket> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.emplace_back(ctx, tcp::v4());
    fillers.back().non_blocking(true);
    ::fcntl(fillers.back().native_handle(), F_SETFL, O_NONBLOCK); // raw connect must not block
    ::connect(fillers.back().native_handle(), full.local_endpoint().data(),
              static_cast<socklen_t>(full.local_endpoint().size()));
  }
  tcp::socket hanging(ctx);
  asio::cancellation_signal sig;
  boost::system::error_code timed_out;
  hanging.async_connect(full.local_endpoint(),
                        asio::bind_cancellation_slot(
                            sig.slot(), [&](boost::system::error_code ec) { timed_out = ec; }));
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(200));
  sig.emit(asio::cancellation_type::terminal);
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(timed_out == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(coroutine_echo_with_owned_buffers_and_all_of_it) {
  asio_uring::io_context ctx;
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  std::string reply;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto [ec, peer] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        BOOST_TEST_REQUIRE(!ec);
        for (;;) {
          auto [rec, n, buf] = co_await peer.async_read_some(std::string(8, '\0'),
                                                             asio::as_tuple(asio::use_awaitable));
          if (rec)
            break;
          buf.resize(n);
          auto [wec, wn, back] = co_await asio_uring::async_write(
              peer, std::move(buf), asio::as_tuple(asio::use_awaitable));
          BOOST_TEST(!wec);
        }
      },
      asio::detached);
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        tcp::socket c(ctx);
        co_await c.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
        auto [wec, wn, sent] = co_await asio_uring::async_write(
            c, std::string("0123456789abcdefghij"), asio::as_tuple(asio::use_awaitable));
        BOOST_TEST(wn == 20u);
        auto [rec, rn, got] = co_await asio_uring::async_read(c, std::string(20, '\0'),
                                                              asio::as_tuple(asio::use_awaitable));
        BOOST_TEST(!rec);
        reply = got;
      },
      asio::detached);
  run_bounded(ctx);
  BOOST_TEST(reply == "0123456789abcdefghij");
}

BOOST_AUTO_TEST_SUITE_END()
