// UDP and Unix sockets: datagrams with addresses, empty datagrams, Unix stream acceptors,
// socket pairs, and the cancellation table for socket op kinds.
#include "fixtures.hpp"
#include "socket_fixtures.hpp"

#include <asio_uring/ip/tcp.hpp>
#include <asio_uring/ip/udp.hpp>
#include <asio_uring/local/datagram_protocol.hpp>
#include <asio_uring/local/stream_protocol.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>

namespace asio = boost::asio;
using asio_uring::ip::udp;
using namespace asio_uring::test;

BOOST_AUTO_TEST_SUITE(datagram_local_sockets_tests)

BOOST_FIXTURE_TEST_CASE(udp_owned_send_to_receive_from, tracked_fixture) {
  asio_uring::io_context ctx;
  udp::socket rx(ctx, udp::endpoint(asio::ip::address_v4::loopback(), 0));
  udp::socket tx(ctx, udp::endpoint(asio::ip::address_v4::loopback(), 0));
  udp::endpoint sender;
  std::string got;
  rx.async_receive_from(tracked_buffer(64), sender,
                        [&](boost::system::error_code ec, std::size_t n, tracked_buffer buf) {
                          BOOST_TEST(!ec);
                          got.assign(reinterpret_cast<char*>(buf.data()), n);
                        });
  tx.async_send_to(tracked_buffer(5, std::byte{'u'}), rx.local_endpoint(),
                   [&](boost::system::error_code ec, std::size_t n, tracked_buffer) {
                     BOOST_TEST(!ec);
                     BOOST_TEST(n == 5u);
                   });
  run_bounded(ctx);
  BOOST_TEST(got == "uuuuu");
  BOOST_TEST(sender == tx.local_endpoint()); // written just before the handler ran
}

BOOST_AUTO_TEST_CASE(udp_empty_datagram_is_not_eof_and_borrowed_api) {
  asio_uring::io_context ctx;
  udp::socket rx(ctx, udp::endpoint(asio::ip::address_v4::loopback(), 0));
  udp::socket tx(ctx, udp::v4());
  tx.connect(rx.local_endpoint());
  char buf[16];
  udp::endpoint from;
  boost::system::error_code first_ec = asio::error::fault;
  std::size_t first_n = 99;
  std::string second;
  rx.async_receive_from(asio::buffer(buf), from, [&](boost::system::error_code ec, std::size_t n) {
    first_ec = ec;
    first_n = n;
    rx.async_receive(asio::buffer(buf), [&](boost::system::error_code ec2, std::size_t n2) {
      BOOST_TEST(!ec2);
      second.assign(buf, n2);
    });
  });
  tx.send(asio::buffer(buf, 0)); // a zero-byte datagram
  tx.async_send(asio::buffer("next", 4),
                [](boost::system::error_code ec, std::size_t) { BOOST_TEST(!ec); });
  run_bounded(ctx);
  BOOST_TEST(!first_ec);
  BOOST_TEST(first_n == 0u);
  BOOST_TEST(second == "next");
}

BOOST_AUTO_TEST_CASE(unix_stream_acceptor_and_connect_pair) {
  asio_uring::io_context ctx;
  using asio_uring::local::stream_protocol;
  std::string path = "/tmp/asio_uring_test_" + std::to_string(::getpid()) + ".sock";
  ::unlink(path.c_str());
  stream_protocol::acceptor acceptor(ctx, stream_protocol::endpoint(path));
  stream_protocol::socket client(ctx);
  std::string got;
  acceptor.async_accept([&](boost::system::error_code ec, stream_protocol::socket peer) {
    BOOST_TEST_REQUIRE(!ec);
    auto p = std::make_shared<stream_protocol::socket>(std::move(peer));
    p->async_read_some(std::string(16, '\0'),
                       [&, p](boost::system::error_code ec2, std::size_t n, std::string s) {
                         BOOST_TEST(!ec2);
                         got = s.substr(0, n);
                       });
  });
  client.async_connect(stream_protocol::endpoint(path), [&](boost::system::error_code ec) {
    BOOST_TEST(!ec);
    client.async_write_some(std::string("unix"),
                            [](boost::system::error_code, std::size_t, std::string) {});
  });
  run_bounded(ctx);
  BOOST_TEST(got == "unix");
  ::unlink(path.c_str());

  stream_protocol::socket x(ctx), y(ctx);
  asio_uring::local::connect_pair(x, y);
  bool eof = false;
  y.close();
  x.async_read_some(std::string(4, '\0'), [&](boost::system::error_code ec, std::size_t,
                                              std::string) { eof = ec == asio::error::eof; });
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(eof);
}

BOOST_AUTO_TEST_CASE(unix_datagram_pair) {
  asio_uring::io_context ctx;
  using asio_uring::local::datagram_protocol;
  datagram_protocol::socket a(ctx), b(ctx);
  asio_uring::local::connect_pair(a, b);
  std::string got;
  b.async_receive(std::string(8, '\0'),
                  [&](boost::system::error_code ec, std::size_t n, std::string s) {
                    BOOST_TEST(!ec);
                    got = s.substr(0, n);
                  });
  a.async_send(std::string("dgram"), [](boost::system::error_code, std::size_t, std::string) {});
  run_bounded(ctx);
  BOOST_TEST(got == "dgram");
}

// DESIGN.md's table for socket op kinds: every cancellation type before the data arrives
// ends the op with operation_aborted and the owned buffer back; the real result wins when
// it was already there.
BOOST_FIXTURE_TEST_CASE(cancellation_table_for_socket_ops, tracked_fixture) {
  for (auto type : {asio::cancellation_type::partial, asio::cancellation_type::total,
                    asio::cancellation_type::terminal}) {
    for (int kind = 0; kind < 3; ++kind) { // tcp recv, udp recv_from, unix recv
      asio_uring::io_context ctx;
      asio::cancellation_signal sig;
      boost::system::error_code got_ec;
      std::size_t buf_size = 0;
      auto h = asio::bind_cancellation_slot(
          sig.slot(), [&](boost::system::error_code ec, std::size_t, tracked_buffer b) {
            got_ec = ec;
            buf_size = b.size();
          });
      auto [t1, t2] = connected_pair(ctx);
      udp::socket u(ctx, udp::endpoint(asio::ip::address_v4::loopback(), 0));
      udp::endpoint from;
      asio_uring::local::stream_protocol::socket l1(ctx), l2(ctx);
      asio_uring::local::connect_pair(l1, l2);
      if (kind == 0)
        t1.async_receive(tracked_buffer(32), std::move(h));
      else if (kind == 1)
        u.async_receive_from(tracked_buffer(32), from, std::move(h));
      else
        l1.async_receive(tracked_buffer(32), std::move(h));
      ctx.poll(); // in the kernel now
      sig.emit(type);
      run_bounded(ctx);
      BOOST_TEST(got_ec == asio::error::operation_aborted,
                 "type " << int(type) << " kind " << kind);
      BOOST_TEST(buf_size == 32u);
    }
  }
  // Completed before the cancel took effect: the data is delivered.
  asio_uring::io_context ctx;
  auto [t1, t2] = connected_pair(ctx);
  t2.send(asio::buffer("data", 4));
  asio::cancellation_signal sig;
  std::size_t n_got = 0;
  t1.async_receive(tracked_buffer(32),
                   asio::bind_cancellation_slot(sig.slot(), [&](boost::system::error_code ec,
                                                                std::size_t n, tracked_buffer) {
                     if (!ec)
                       n_got = n;
                   }));
  ctx.run_for(std::chrono::milliseconds(50)); // the receive completes (handler runs)
  sig.emit(asio::cancellation_type::total);   // too late: nothing happens
  BOOST_TEST(n_got == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
