// Ring receives (kernel-chosen buffers through a multishot recv) and zero-copy sends.
#include "fixtures.hpp"
#include "socket_fixtures.hpp"

#include <asio_uring/buffer_ring.hpp>
#include <asio_uring/ip/tcp.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio_uring::ip::tcp;
using namespace asio_uring::test;

BOOST_AUTO_TEST_SUITE(buffer_ring_tests)

std::string as_string(const asio_uring::ring_buffer& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

BOOST_AUTO_TEST_CASE(receives_in_order_then_eof_and_buffers_return) {
  asio_uring::io_context ctx;
  asio_uring::buffer_ring ring(ctx, 8, 4096);
  auto [a, b] = connected_pair(ctx);
  std::string all;
  bool eof = false;
  std::function<void()> next = [&] {
    a.async_receive(ring, [&](boost::system::error_code ec, asio_uring::ring_buffer buf) {
      if (ec == asio::error::eof) {
        eof = true;
        return;
      }
      BOOST_TEST_REQUIRE(!ec);
      BOOST_TEST(buf.size() > 0u);
      all += as_string(buf);
      next();
    });
  };
  next();
  std::string sent;
  for (int i = 0; i < 100; ++i) {
    std::string chunk = "message " + std::to_string(i) + ";";
    b.send(asio::buffer(chunk));
    sent += chunk;
    if (i % 10 == 0)
      ctx.poll();
  }
  b.shutdown(tcp::socket::shutdown_send);
  run_bounded(ctx);
  BOOST_TEST(eof);
  BOOST_TEST(all == sent);
  BOOST_TEST(ring.in_use() == 0u); // every ring_buffer went back
}

BOOST_AUTO_TEST_CASE(data_arriving_with_nobody_waiting_is_kept) {
  asio_uring::io_context ctx;
  asio_uring::buffer_ring ring(ctx, 4, 64);
  auto [a, b] = connected_pair(ctx);
  std::string first;
  a.async_receive(ring, [&](boost::system::error_code ec, asio_uring::ring_buffer buf) {
    BOOST_TEST(!ec);
    first = as_string(buf);
  });
  b.send(asio::buffer("one", 3));
  run_bounded(ctx);
  // The multishot recv stays armed: this arrives with no receive waiting.
  b.send(asio::buffer("two", 3));
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(50));
  std::string second;
  a.async_receive(ring, [&](boost::system::error_code ec, asio_uring::ring_buffer buf) {
    BOOST_TEST(!ec);
    second = as_string(buf);
  });
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(first == "one");
  BOOST_TEST(second == "two");
}

BOOST_AUTO_TEST_CASE(ring_running_dry_rearms_when_buffers_come_back) {
  asio_uring::io_context ctx;
  asio_uring::buffer_ring ring(ctx, 2, 16); // two buffers only
  auto [a, b] = connected_pair(ctx);
  std::vector<asio_uring::ring_buffer> held;
  std::string all;
  std::function<void()> next = [&] {
    a.async_receive(ring, [&](boost::system::error_code ec, asio_uring::ring_buffer buf) {
      if (ec)
        return;
      all += as_string(buf);
      held.push_back(std::move(buf)); // keep them: the ring runs dry (ENOBUFS)
      if (all.size() < 64)
        next();
    });
  };
  next();
  std::string sent(64, 'z');
  for (std::size_t i = 0; i < sent.size(); i += 16) {
    b.send(asio::buffer(sent.data() + i, 16));
    ctx.restart();
    ctx.run_for(std::chrono::milliseconds(20));
    if (held.size() == 2)
      held.clear(); // give the buffers back: the receive must resume by itself
  }
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(200));
  BOOST_TEST(all == sent);
}

BOOST_AUTO_TEST_CASE(cancel_and_close_end_ring_receives_cleanly) {
  asio_uring::io_context ctx;
  asio_uring::buffer_ring ring(ctx, 4, 64);
  auto [a, b] = connected_pair(ctx);
  asio::cancellation_signal sig;
  boost::system::error_code first, second;
  a.async_receive(
      ring, asio::bind_cancellation_slot(sig.slot(), [&](boost::system::error_code ec,
                                                         asio_uring::ring_buffer) { first = ec; }));
  ctx.poll();
  sig.emit(asio::cancellation_type::terminal);
  ctx.poll();
  BOOST_TEST(first == asio::error::operation_aborted);
  // Another receive still works after a cancelled one.
  std::string got;
  a.async_receive(ring, [&](boost::system::error_code ec, asio_uring::ring_buffer buf) {
    BOOST_TEST(!ec);
    got = as_string(buf);
  });
  b.send(asio::buffer("after", 5));
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(got == "after");
  a.async_receive(ring,
                  [&](boost::system::error_code ec, asio_uring::ring_buffer) { second = ec; });
  ctx.restart();
  ctx.poll();
  a.close();
  run_bounded(ctx);
  BOOST_TEST(second == asio::error::operation_aborted);
  BOOST_TEST(ring.in_use() == 0u);
}

BOOST_AUTO_TEST_CASE(one_ring_per_socket) {
  asio_uring::io_context ctx;
  asio_uring::buffer_ring r1(ctx, 4, 64), r2(ctx, 4, 64);
  auto [a, b] = connected_pair(ctx);
  boost::system::error_code ec2;
  a.async_receive(r1, [](boost::system::error_code, asio_uring::ring_buffer) {});
  a.async_receive(r2, [&](boost::system::error_code ec, asio_uring::ring_buffer) { ec2 = ec; });
  b.send(asio::buffer("x", 1));
  run_bounded(ctx);
  BOOST_TEST(ec2 == asio::error::invalid_argument);
}

BOOST_AUTO_TEST_CASE(bad_sizes_are_rejected) {
  asio_uring::io_context ctx;
  BOOST_CHECK_THROW(asio_uring::buffer_ring(ctx, 0, 64), std::invalid_argument);
  BOOST_CHECK_THROW(asio_uring::buffer_ring(ctx, 40000, 64), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(ring_receives_on_many_sockets_share_one_ring) {
  asio_uring::io_context ctx;
  asio_uring::buffer_ring ring(ctx, 64, 256);
  std::vector<std::pair<tcp::socket, tcp::socket>> pairs;
  for (int i = 0; i < 20; ++i)
    pairs.push_back(connected_pair(ctx));
  int done = 0;
  for (int i = 0; i < 20; ++i) {
    pairs[i].first.async_receive(ring,
                                 [&, i](boost::system::error_code ec, asio_uring::ring_buffer buf) {
                                   BOOST_TEST(!ec);
                                   BOOST_TEST(as_string(buf) == std::to_string(i));
                                   ++done;
                                 });
    std::string s = std::to_string(i);
    pairs[i].second.send(asio::buffer(s));
  }
  run_bounded(ctx);
  BOOST_TEST(done == 20);
}

// 200 connections wait on a ring of 8 buffers: waiting takes none (the kernel picks one when
// data arrives), so all 200 are served, the ring running dry and re-arming on the way.
BOOST_AUTO_TEST_CASE(idle_receives_on_many_sockets_hold_no_buffer) {
  asio_uring::io_context ctx;
  asio_uring::buffer_ring ring(ctx, 8, 512);
  std::vector<std::pair<tcp::socket, tcp::socket>> pairs;
  for (int i = 0; i < 200; ++i)
    pairs.push_back(connected_pair(ctx));
  int done = 0;
  for (int i = 0; i < 200; ++i)
    pairs[i].first.async_receive(ring,
                                 [&, i](boost::system::error_code ec, asio_uring::ring_buffer buf) {
                                   BOOST_TEST(!ec);
                                   BOOST_TEST(as_string(buf) == "from " + std::to_string(i));
                                   ++done;
                                 });
  ctx.poll(); // every receive is armed and waiting
  BOOST_TEST(ring.in_use() == 0u);
  BOOST_TEST(done == 0);
  for (int i = 0; i < 200; ++i) {
    std::string s = "from " + std::to_string(i);
    pairs[i].second.send(asio::buffer(s));
  }
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(done == 200);
  BOOST_TEST(ring.in_use() == 0u);
}

BOOST_FIXTURE_TEST_CASE(send_zc_hands_buffer_back_after_notification, tracked_fixture) {
  asio_uring::io_context ctx;
  auto [a, b] = connected_pair(ctx);
  constexpr std::size_t n = 256 * 1024;
  std::size_t sent = 0;
  b.async_send_zc(tracked_buffer(n, std::byte{0x5a}),
                  [&](boost::system::error_code ec, std::size_t k, tracked_buffer buf) {
                    BOOST_TEST(!ec);
                    BOOST_TEST(buf.size() == n);
                    sent = k;
                  });
  std::size_t got = 0;
  std::vector<char> sink(1 << 20);
  std::function<void()> next = [&] {
    a.async_receive(asio::buffer(sink), [&](boost::system::error_code ec, std::size_t k) {
      BOOST_TEST_REQUIRE(!ec);
      BOOST_TEST((sink[0] == 0x5a));
      got += k;
      if (got < n) // a blocking socket sends all of it
        next();
    });
  };
  next();
  run_bounded(ctx);
  BOOST_TEST(sent == n);
  BOOST_TEST(got == n);
}

BOOST_AUTO_TEST_SUITE_END()
