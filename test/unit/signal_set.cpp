// signal_set: signals raised in any thread reach the set through the ring; Asio's semantics
// for pending signals, cancel, remove and destruction.
#include "fixtures.hpp"

#include <asio_uring/signal_set.hpp>
#include <asio_uring/steady_timer.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <thread>

namespace asio = boost::asio;
using namespace asio_uring::test;

BOOST_AUTO_TEST_SUITE(signal_set_tests)

BOOST_AUTO_TEST_CASE(signal_raised_in_another_thread_completes_wait) {
  asio_uring::io_context ctx;
  asio_uring::signal_set signals(ctx, SIGUSR1, SIGUSR2);
  int got = 0;
  signals.async_wait([&](boost::system::error_code ec, int n) {
    BOOST_TEST(!ec);
    got = n;
  });
  // The signal is not blocked anywhere: the kernel picks any thread; the handler forwards it.
  std::thread t([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::kill(::getpid(), SIGUSR2);
  });
  run_bounded(ctx);
  t.join();
  BOOST_TEST(got == SIGUSR2);
}

BOOST_AUTO_TEST_CASE(signal_before_wait_is_kept_for_the_next_wait) {
  asio_uring::io_context ctx;
  asio_uring::signal_set signals(ctx);
  signals.add(SIGUSR1);
  ::raise(SIGUSR1);
  // Let the ring read the pipe while nobody waits.
  asio_uring::steady_timer t(ctx, std::chrono::milliseconds(20));
  t.async_wait([](boost::system::error_code) {});
  run_bounded(ctx);
  int got = 0;
  signals.async_wait([&](boost::system::error_code ec, int n) {
    BOOST_TEST(!ec);
    got = n;
  });
  ctx.restart();
  run_bounded(ctx);
  BOOST_TEST(got == SIGUSR1);
}

BOOST_AUTO_TEST_CASE(cancel_and_slot_abort_waits) {
  asio_uring::io_context ctx;
  asio_uring::signal_set signals(ctx, SIGUSR1);
  boost::system::error_code a, b;
  signals.async_wait([&](boost::system::error_code ec, int) { a = ec; });
  asio::cancellation_signal sig;
  signals.async_wait(
      asio::bind_cancellation_slot(sig.slot(), [&](boost::system::error_code ec, int) { b = ec; }));
  ctx.poll();
  sig.emit(asio::cancellation_type::terminal);
  ctx.poll();
  BOOST_TEST(b == asio::error::operation_aborted);
  signals.cancel();
  run_bounded(ctx);
  BOOST_TEST(a == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(two_sets_both_see_a_signal_and_destruction_restores_handler) {
  auto before = std::signal(SIGUSR2, SIG_IGN);
  {
    asio_uring::io_context ctx;
    asio_uring::signal_set s1(ctx, SIGUSR2), s2(ctx, SIGUSR2);
    int count = 0;
    s1.async_wait([&](boost::system::error_code ec, int) { count += !ec; });
    s2.async_wait([&](boost::system::error_code ec, int) { count += !ec; });
    ctx.poll();
    ::raise(SIGUSR2);
    run_bounded(ctx);
    BOOST_TEST(count == 2);
    // A wait pending at destruction completes aborted.
    boost::system::error_code last;
    s1.async_wait([&](boost::system::error_code ec, int) { last = ec; });
    ctx.restart();
    ctx.poll();
    s1.clear();
    s1.cancel();
    ctx.poll();
    BOOST_TEST(last == asio::error::operation_aborted);
  }
  // Every set is gone: the previous disposition (ignore) is back.
  BOOST_TEST((std::signal(SIGUSR2, before) == SIG_IGN));
}

BOOST_AUTO_TEST_CASE(invalid_signal_numbers_are_rejected) {
  asio_uring::io_context ctx;
  asio_uring::signal_set signals(ctx);
  boost::system::error_code ec;
  signals.add(0, ec);
  BOOST_TEST(ec == asio::error::invalid_argument);
  signals.add(SIGKILL, ec);
  BOOST_TEST(ec == asio::error::invalid_argument);
  BOOST_CHECK_THROW(signals.add(9999), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(context_destroyed_with_a_wait_pending) {
  auto ctx = std::make_unique<asio_uring::io_context>();
  auto signals = std::make_unique<asio_uring::signal_set>(*ctx, SIGUSR1);
  bool ran = false;
  signals->async_wait([&](boost::system::error_code, int) { ran = true; });
  ctx->poll();
  signals.reset();
  ctx.reset(); // the aborted wait is destroyed, never run (Asio's rule at shutdown)
  BOOST_TEST(!ran);
}

BOOST_AUTO_TEST_SUITE_END()
