// io_context: Asio's run/poll/stop semantics, ring setup, threading rules, setup failures.
#include "child_process.hpp"
#include "fixtures.hpp"

#include <asio_uring.hpp>
// Beast-dependent parts live in <asio_uring/beast.hpp>: the core header must not need Beast.
#if defined(BOOST_BEAST_VERSION)
#error "<asio_uring.hpp> includes Boost.Beast"
#endif

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <liburing/io_uring.h>

#include <atomic>
#include <memory>
#include <vector>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace asio = boost::asio;
using asio_uring::io_context;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(io_context_tests)

BOOST_AUTO_TEST_CASE(run_without_work_returns_at_once_and_stops) {
  ::io_context ctx;
  BOOST_TEST(ctx.run() == 0u);
  BOOST_TEST(ctx.stopped());
  ctx.restart();
  BOOST_TEST(!ctx.stopped());
}

BOOST_AUTO_TEST_CASE(run_counts_handlers_and_returns_when_out_of_work) {
  ::io_context ctx;
  int n = 0;
  for (int i = 0; i < 10; ++i)
    asio::post(ctx, [&] { ++n; });
  BOOST_TEST(ctx.run() == 10u);
  BOOST_TEST(n == 10);
  BOOST_TEST(ctx.stopped());
}

BOOST_AUTO_TEST_CASE(run_one_and_poll_one_run_exactly_one) {
  ::io_context ctx;
  int n = 0;
  for (int i = 0; i < 3; ++i)
    asio::post(ctx, [&] { ++n; });
  BOOST_TEST(ctx.run_one() == 1u);
  BOOST_TEST(n == 1);
  BOOST_TEST(ctx.poll_one() == 1u);
  BOOST_TEST(n == 2);
  BOOST_TEST(ctx.poll() == 1u);
  BOOST_TEST(n == 3);
  BOOST_TEST(ctx.poll() == 0u);
}

BOOST_AUTO_TEST_CASE(poll_does_not_block_on_pending_timer) {
  ::io_context ctx;
  asio_uring::steady_timer t(ctx, 10s);
  bool fired = false;
  t.async_wait([&](boost::system::error_code) { fired = true; });
  auto start = std::chrono::steady_clock::now();
  BOOST_TEST(ctx.poll() == 0u);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 2s));
  BOOST_TEST(!fired);
  t.cancel();
  BOOST_TEST(ctx.run() == 1u);
  BOOST_TEST(fired);
}

BOOST_AUTO_TEST_CASE(stop_makes_run_return_and_restart_resumes) {
  ::io_context ctx;
  int n = 0;
  asio::post(ctx, [&] {
    ++n;
    ctx.stop();
  });
  asio::post(ctx, [&] { ++n; });
  BOOST_TEST(ctx.run() == 1u);
  BOOST_TEST(ctx.stopped());
  BOOST_TEST(n == 1);
  BOOST_TEST(ctx.run() == 0u); // stopped: nothing runs until restart
  ctx.restart();
  BOOST_TEST(ctx.run() == 1u);
  BOOST_TEST(n == 2);
}

BOOST_AUTO_TEST_CASE(run_for_returns_after_the_duration_while_work_remains) {
  ::io_context ctx;
  auto guard = asio::make_work_guard(ctx);
  auto start = std::chrono::steady_clock::now();
  BOOST_TEST(ctx.run_for(50ms) == 0u);
  auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST((took >= 50ms));
  BOOST_TEST((took < 5s));
  BOOST_TEST(!ctx.stopped());
}

BOOST_AUTO_TEST_CASE(work_guard_keeps_run_alive_until_reset_from_another_thread) {
  ::io_context ctx;
  auto guard = asio::make_work_guard(ctx);
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);
    guard.reset();
  });
  BOOST_TEST(ctx.run() == 0u);
  t.join();
  BOOST_TEST(ctx.stopped());
}

BOOST_AUTO_TEST_CASE(handler_exception_leaves_run_and_run_continues_after) {
  ::io_context ctx;
  int n = 0;
  asio::post(ctx, [] { throw std::runtime_error("boom"); });
  asio::post(ctx, [&] { ++n; });
  BOOST_CHECK_THROW(ctx.run(), std::runtime_error);
  BOOST_TEST(n == 0);
  BOOST_TEST(ctx.run() == 1u);
  BOOST_TEST(n == 1);
}

BOOST_AUTO_TEST_CASE(ring_uses_the_best_flags_this_kernel_accepts) {
  ::io_context ctx;
  unsigned f = ctx.ring_setup_flags();
  BOOST_TEST_MESSAGE("ring setup flags: 0x" << std::hex << f);
  // Kernel 6.1+ (the CI machines) accept all of them; an older kernel drops some, never fails.
  BOOST_TEST((f & IORING_SETUP_SINGLE_ISSUER) != 0u);
  BOOST_TEST((f & IORING_SETUP_DEFER_TASKRUN) != 0u);
  BOOST_TEST((f & IORING_SETUP_SUBMIT_ALL) != 0u);

  io_context::options o;
  o.defer_taskrun = false;
  ::io_context coop(o);
  BOOST_TEST((coop.ring_setup_flags() & IORING_SETUP_DEFER_TASKRUN) == 0u);
  BOOST_TEST((coop.ring_setup_flags() & IORING_SETUP_COOP_TASKRUN) != 0u);
  int n = 0;
  asio::post(coop, [&] { ++n; });
  BOOST_TEST(coop.run() == 1u);
  BOOST_TEST(n == 1);
}

BOOST_AUTO_TEST_CASE(concurrency_hint_constructor_is_accepted) {
  ::io_context ctx(1);
  int n = 0;
  asio::post(ctx, [&] { ++n; });
  ctx.run();
  BOOST_TEST(n == 1);
}

// Running from two threads at once is a detected error, not undefined behaviour.
BOOST_AUTO_TEST_CASE(running_from_two_threads_at_once_throws) {
  ::io_context ctx;
  auto guard = asio::make_work_guard(ctx);
  std::atomic<bool> started{false};
  asio::post(ctx, [&] { started = true; });
  std::thread runner([&] { ctx.run(); });
  while (!started)
    std::this_thread::yield();
  try {
    ctx.run_one();
    BOOST_ERROR("second run did not throw");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(std::string(e.what()).find("another thread") != std::string::npos);
  }
  guard.reset();
  runner.join();
}

// Objects built on main, run on a worker: the worker becomes the ring's single issuer.
BOOST_AUTO_TEST_CASE(ops_started_on_main_complete_when_a_worker_runs) {
  ::io_context ctx;
  asio_uring::steady_timer t(ctx, 1ms);
  bool fired = false;
  t.async_wait([&](boost::system::error_code ec) { fired = !ec; });
  std::thread worker([&] { ctx.run(); });
  worker.join();
  BOOST_TEST(fired);
  // Run again from this thread: the idle ring is re-created for it.
  ctx.restart();
  t.expires_after(1ms);
  fired = false;
  t.async_wait([&](boost::system::error_code ec) { fired = !ec; });
  ctx.run();
  BOOST_TEST(fired);
}

// A tiny ring: 4 SQEs, 8 CQEs, 500 reads in flight and completing together. A full SQ is
// flushed and retried; the CQ overflows and nothing is lost.
BOOST_AUTO_TEST_CASE(full_sq_and_cq_overflow_lose_nothing) {
  io_context::options o;
  o.entries = 4;
  o.cq_entries = 8;
  ::io_context ctx(o);
  constexpr int n = 500;
  std::vector<asio_uring::test::pipe_pair> pipes(n);
  std::vector<std::unique_ptr<asio_uring::posix::stream_descriptor>> ds;
  int ok = 0;
  for (auto& p : pipes) {
    ds.push_back(std::make_unique<asio_uring::posix::stream_descriptor>(ctx, ::dup(p.read_end)));
    ds.back()->async_read_some(std::vector<char>(4),
                               [&](boost::system::error_code ec, std::size_t k, std::vector<char>) {
                                 ok += !ec && k == 1;
                               });
  }
  BOOST_TEST(ctx.poll() == 0u); // all submitted through a 4-entry SQ
  for (auto& p : pipes)
    BOOST_TEST_REQUIRE(::write(p.write_end, "x", 1) == 1);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(ok == n);
}

BOOST_AUTO_TEST_CASE(running_from_a_new_thread_with_ops_in_the_kernel_is_a_clear_error) {
  ::io_context ctx;
  asio_uring::test::pipe_pair p;
  asio_uring::posix::stream_descriptor in(ctx, p.take_read());
  in.async_read_some(std::vector<char>(4),
                     [](boost::system::error_code, std::size_t, std::vector<char>) {});
  BOOST_TEST(ctx.poll() == 0u); // this thread owns the ring; the read is in the kernel
  std::string what;
  std::thread other([&] {
    try {
      ctx.poll();
    } catch (const boost::system::system_error& e) {
      what = e.what();
    }
  });
  other.join();
  BOOST_TEST(what.find("single_issuer") != std::string::npos);
}

namespace {
// Constructs an io_context in a child process whose seccomp filter fails io_uring_setup with
// `err`; returns what the child reported.
asio_uring::test::child_result run_with_io_uring_denied(int err) {
  return asio_uring::test::expect_error_in_child(
      err, [err] { return asio_uring::test::fail_syscall_with(__NR_io_uring_setup, err); },
      [] { ::io_context ctx; });
}
} // namespace

BOOST_AUTO_TEST_CASE(io_uring_blocked_by_seccomp_throws_system_error_with_remedy) {
  auto [status, what] = run_with_io_uring_denied(ENOSYS);
  BOOST_TEST(status == 0);
  BOOST_TEST(what.find("io_uring") != std::string::npos);
  BOOST_TEST(what.find("seccomp") != std::string::npos);
  BOOST_TEST(what.find("Remedy") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(io_uring_disabled_by_sysctl_throws_system_error_with_remedy) {
  auto [status, what] = run_with_io_uring_denied(EPERM);
  BOOST_TEST(status == 0);
  BOOST_TEST(what.find("kernel.io_uring_disabled") != std::string::npos);
  BOOST_TEST(what.find("Remedy") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(io_uring_without_memory_throws_system_error_with_remedy) {
  auto [status, what] = run_with_io_uring_denied(ENOMEM);
  BOOST_TEST(status == 0);
  BOOST_TEST(what.find("ulimit -l") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(executor_of_another_context_is_rejected_clearly) {
  asio::io_context other;
  try {
    asio_uring::steady_timer t(other.get_executor());
    BOOST_ERROR("no exception");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("asio_uring::io_context") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
