// The executor: Asio's executor concepts and every completion-token style users reach for.
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/is_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio_uring::io_context;
using asio_uring::posix::stream_descriptor;
using boost::system::error_code;
using namespace std::chrono_literals;

static_assert(asio::execution::is_executor<io_context::executor_type>::value);
static_assert(asio::is_executor<io_context::executor_type>::value); // Networking TS
static_assert(std::is_nothrow_copy_constructible_v<io_context::executor_type>);
static_assert(std::is_convertible_v<io_context::executor_type, asio::any_io_executor>);
static_assert(
    asio::can_require<io_context::executor_type, asio::execution::blocking_t::never_t>::value);
static_assert(asio::can_prefer<io_context::executor_type,
                               asio::execution::outstanding_work_t::tracked_t>::value);

BOOST_AUTO_TEST_SUITE(executor_tests)

BOOST_AUTO_TEST_CASE(execute_runs_inline_on_the_running_thread_unless_blocking_never) {
  io_context ctx;
  auto ex = ctx.get_executor();
  std::vector<int> order;
  asio::post(ctx, [&] {
    ex.execute([&] { order.push_back(1); }); // inline
    asio::require(ex, asio::execution::blocking.never).execute([&] { order.push_back(3); });
    order.push_back(2);
  });
  ctx.run();
  BOOST_TEST((order == std::vector<int>{1, 2, 3}));
  BOOST_TEST(!ex.running_in_this_thread());
  BOOST_TEST(&asio::query(ex, asio::execution::context) == &ctx);
  BOOST_TEST((asio::query(ex, asio::execution::blocking) == asio::execution::blocking.possibly));
}

BOOST_AUTO_TEST_CASE(post_dispatch_defer_keep_asio_ordering) {
  io_context ctx;
  std::vector<int> order;
  asio::post(ctx, [&] {
    asio::post(ctx, [&] { order.push_back(3); });
    asio::defer(ctx, [&] { order.push_back(4); });
    asio::dispatch(ctx, [&] { order.push_back(1); });
    order.push_back(2);
  });
  ctx.run();
  BOOST_TEST((order == std::vector<int>{1, 2, 3, 4}));
}

BOOST_AUTO_TEST_CASE(networking_ts_members) {
  io_context ctx;
  auto ex = ctx.get_executor();
  int n = 0;
  ex.on_work_started();
  std::thread t([&] {
    ex.post([&] { ++n; }, std::allocator<void>());
    ex.on_work_finished();
  });
  ctx.run();
  t.join();
  BOOST_TEST(n == 1);
  BOOST_TEST(&ex.context() == &ctx);
  BOOST_TEST((ex == ctx.get_executor()));
}

BOOST_AUTO_TEST_CASE(any_io_executor_and_strand) {
  io_context ctx;
  asio::any_io_executor any = ctx.get_executor();
  auto strand = asio::make_strand(any);
  int n = 0;
  for (int i = 0; i < 100; ++i)
    asio::post(strand, [&] { ++n; });
  asio_uring::steady_timer t(strand, 1ms);
  t.async_wait(asio::bind_executor(strand, [&](error_code ec) {
    BOOST_TEST(!ec);
    BOOST_TEST(strand.running_in_this_thread());
    ++n;
  }));
  ctx.run();
  BOOST_TEST(n == 101);
}

BOOST_AUTO_TEST_CASE(co_spawn_use_awaitable_owned_read_with_as_tuple) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read()), out(ctx, p.take_write());
  std::string got;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto [wec, wn, wbuf] =
            co_await out.async_write_some(std::string("ping"), asio::as_tuple(asio::use_awaitable));
        BOOST_TEST(!wec);
        BOOST_TEST(wn == 4u);
        auto [ec, n, buf] =
            co_await in.async_read_some(std::vector<char>(16), asio::as_tuple(asio::use_awaitable));
        BOOST_TEST(!ec);
        got.assign(buf.data(), n);
        out.close();
        // EOF: as_tuple keeps the buffer (plain use_awaitable would throw and lose it).
        auto [ec2, n2, buf2] =
            co_await in.async_read_some(std::move(buf), asio::as_tuple(asio::use_awaitable));
        BOOST_TEST(ec2 == asio::error::eof);
        BOOST_TEST(n2 == 0u);
        BOOST_TEST(buf2.size() == 16u);
      },
      [](std::exception_ptr e) { BOOST_TEST(!e); });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == "ping");
}

BOOST_AUTO_TEST_CASE(redirect_error_and_plain_use_awaitable_with_timers) {
  io_context ctx;
  bool done = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        asio_uring::steady_timer t(co_await asio::this_coro::executor, 1ms);
        co_await t.async_wait(asio::use_awaitable);
        error_code ec;
        t.expires_after(1ms);
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        BOOST_TEST(!ec);
        done = true;
      },
      asio::detached);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(done);
}

BOOST_AUTO_TEST_CASE(deferred_launches_later_and_unlaunched_destroys_the_buffer) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  BOOST_TEST_REQUIRE(::write(p.write_end, "abc", 3) == 3);
  {
    asio_uring::test::stats().reset();
    auto never = in.async_read_some(asio_uring::test::tracked_buffer(8), asio::deferred);
    BOOST_TEST(asio_uring::test::stats().live == 1); // the buffer waits in the deferred object
  }
  BOOST_TEST(asio_uring::test::stats().live == 0); // never launched: just destroyed
  auto op = in.async_read_some(std::vector<char>(8), asio::deferred);
  std::size_t got = 0;
  std::move(op)([&](error_code ec, std::size_t n, std::vector<char>) {
    BOOST_TEST(!ec);
    got = n;
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == 3u);
}

BOOST_AUTO_TEST_CASE(use_future_from_another_thread) {
  io_context ctx;
  auto guard = asio::make_work_guard(ctx);
  std::thread runner([&] { ctx.run(); });
  asio_uring::steady_timer t(ctx, 1ms);
  auto f = t.async_wait(asio::use_future);
  BOOST_TEST((f.wait_for(5s) == std::future_status::ready));
  f.get();
  guard.reset();
  runner.join();
}

BOOST_AUTO_TEST_CASE(parallel_group_cancels_the_loser) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  asio_uring::steady_timer t(ctx, 5ms);
  std::size_t order0 = 9;
  error_code read_ec, timer_ec;
  asio::experimental::make_parallel_group(in.async_read_some(std::vector<char>(8), asio::deferred),
                                          t.async_wait(asio::deferred))
      .async_wait(asio::experimental::wait_for_one(),
                  [&](std::array<std::size_t, 2> order, error_code rec, std::size_t,
                      std::vector<char> buf, error_code tec) {
                    order0 = order[0];
                    read_ec = rec;
                    timer_ec = tec;
                    BOOST_TEST(buf.size() == 8u); // the cancelled read gave its buffer back
                  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(order0 == 1u); // the timer finished first
  BOOST_TEST(!timer_ec);
  BOOST_TEST(read_ec == asio::error::operation_aborted);
}

BOOST_AUTO_TEST_CASE(awaitable_operators_timeout_pattern) {
  using namespace asio::experimental::awaitable_operators;
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  bool timed_out = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        asio_uring::steady_timer t(co_await asio::this_coro::executor, 5ms);
        auto r = co_await (
            in.async_read_some(std::vector<char>(8), asio::as_tuple(asio::use_awaitable)) ||
            t.async_wait(asio::as_tuple(asio::use_awaitable)));
        timed_out = r.index() == 1;
      },
      asio::detached);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(timed_out);
}

// Asio's own reactor objects on our executor complete through Asio's scheduler thread (the
// documented slow path that Beast's WebSocket and TLS streams rely on).
BOOST_AUTO_TEST_CASE(asio_own_steady_timer_on_our_executor_completes) {
  io_context ctx;
  asio::steady_timer t(ctx.get_executor(), 2ms);
  bool fired = false;
  t.async_wait([&](error_code ec) {
    BOOST_TEST(!ec);
    BOOST_TEST(ctx.get_executor().running_in_this_thread());
    fired = true;
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(fired);
}

BOOST_AUTO_TEST_SUITE_END()
