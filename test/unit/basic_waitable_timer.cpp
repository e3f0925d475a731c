// Timers: expiry, cancel, expires_* cancelling pending waits, several waits, other clocks.
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <vector>

namespace asio = boost::asio;
using asio_uring::io_context;
using asio_uring::steady_timer;
using boost::system::error_code;
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

BOOST_AUTO_TEST_SUITE(basic_waitable_timer_tests)

BOOST_AUTO_TEST_CASE(wait_completes_no_earlier_than_the_expiry) {
  io_context ctx;
  steady_timer t(ctx, 20ms);
  auto expiry = t.expiry();
  clk::time_point fired;
  error_code got = asio::error::would_block;
  t.async_wait([&](error_code ec) {
    got = ec;
    fired = clk::now();
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(!got);
  BOOST_TEST((fired >= expiry));
}

BOOST_AUTO_TEST_CASE(expired_timer_completes_at_once_but_posted) {
  io_context ctx;
  steady_timer t(ctx); // expiry = epoch: already expired
  bool done = false;
  t.async_wait([&](error_code ec) { done = !ec; });
  BOOST_TEST(!done);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(done);
}

BOOST_AUTO_TEST_CASE(cancel_aborts_every_pending_wait_and_counts_them) {
  io_context ctx;
  steady_timer t(ctx, 1h);
  int aborted = 0;
  for (int i = 0; i < 3; ++i)
    t.async_wait([&](error_code ec) { aborted += ec == asio::error::operation_aborted; });
  BOOST_TEST(ctx.poll() == 0u);
  BOOST_TEST(t.cancel() == 3u);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(aborted == 3);
  BOOST_TEST(t.cancel() == 0u);
}

BOOST_AUTO_TEST_CASE(expires_after_cancels_pending_waits_as_asio_does) {
  io_context ctx;
  steady_timer t(ctx, 1h);
  std::vector<error_code> results;
  t.async_wait([&](error_code ec) { results.push_back(ec); });
  asio::post(ctx, [&] {
    BOOST_TEST(t.expires_after(1ms) == 1u);
    t.async_wait([&](error_code ec) { results.push_back(ec); });
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST_REQUIRE(results.size() == 2u);
  BOOST_TEST(results[0] == asio::error::operation_aborted);
  BOOST_TEST(!results[1]);
}

BOOST_AUTO_TEST_CASE(destroying_the_timer_aborts_its_waits) {
  io_context ctx;
  error_code got;
  {
    steady_timer t(ctx, 1h);
    t.async_wait([&](error_code ec) { got = ec; });
    BOOST_TEST(ctx.poll() == 0u);
  }
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(per_operation_cancellation_of_a_wait) {
  io_context ctx;
  steady_timer t(ctx, 1h);
  asio::cancellation_signal sig;
  error_code got;
  t.async_wait(asio::bind_cancellation_slot(sig.slot(), [&](error_code ec) { got = ec; }));
  BOOST_TEST(ctx.poll() == 0u);
  sig.emit(asio::cancellation_type::terminal);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(system_timer_and_a_moved_timer) {
  io_context ctx;
  asio_uring::system_timer st(ctx, 2ms);
  bool sys_done = false;
  st.async_wait([&](error_code ec) { sys_done = !ec; });
  steady_timer a(ctx, 1h);
  error_code moved_result;
  a.async_wait([&](error_code ec) { moved_result = ec; });
  steady_timer b(std::move(a)); // pending waits follow the timer's state
  BOOST_TEST(b.cancel() == 1u);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(sys_done);
  BOOST_TEST(moved_result == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(ten_thousand_timers_fire_in_order_of_expiry) {
  io_context ctx;
  constexpr int n = 10000;
  std::vector<std::unique_ptr<steady_timer>> timers;
  auto base = clk::now() + 5ms;
  int fired = 0;
  for (int i = 0; i < n; ++i) {
    timers.push_back(std::make_unique<steady_timer>(ctx, base + std::chrono::microseconds(i)));
    timers.back()->async_wait([&](error_code ec) { fired += !ec; });
  }
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(fired == n);
}

BOOST_AUTO_TEST_CASE(synchronous_wait_blocks_until_the_expiry) {
  io_context ctx;
  asio_uring::system_timer st(ctx, 5ms);
  auto expiry = st.expiry();
  st.wait();
  BOOST_TEST((std::chrono::system_clock::now() >= expiry));
}

BOOST_AUTO_TEST_SUITE_END()
