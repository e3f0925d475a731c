// Steady state does no heap allocation per operation: op blocks and posted functions are
// recycled per context. Checked with a counting operator new (a count, not a time).
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <functional>
#include <cstdlib>
#include <new>
#include <vector>

namespace {
thread_local bool counting = false;
thread_local long allocations = 0;
} // namespace

// Counting replacements for the whole test program; they only count on a thread that asked.
void* operator new(std::size_t n) {
  if (counting)
    ++allocations;
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace asio = boost::asio;
using asio_uring::io_context;
using asio_uring::posix::stream_descriptor;
using boost::system::error_code;

namespace {
struct count_scope {
  count_scope() {
    allocations = 0;
    counting = true;
  }
  ~count_scope() { counting = false; }
};

// Ping-pong over a pipe with owned buffers and callbacks; counts allocations after warm-up.
struct ping_pong {
  stream_descriptor in, out;
  int left;
  int warmup;
  std::vector<char> spare;
  ping_pong(io_context& ctx, int r, int w, int rounds, int warm)
      : in(ctx, r), out(ctx, w), left(rounds), warmup(warm) {}
  void write(std::vector<char> b) {
    out.async_write_some(std::move(b), [this](error_code ec, std::size_t, std::vector<char> b2) {
      BOOST_TEST_REQUIRE(!ec);
      read(std::move(b2));
    });
  }
  void read(std::vector<char> b) {
    in.async_read_some(std::move(b), [this](error_code ec, std::size_t n, std::vector<char> b2) {
      BOOST_TEST_REQUIRE(!ec);
      BOOST_TEST_REQUIRE(n == 8u);
      if (--warmup == 0) {
        allocations = 0;
        counting = true;
      }
      if (--left > 0)
        write(std::move(b2));
      else
        counting = false;
    });
  }
};
} // namespace

// A handler that forwards to a function built once (std::ref trips an Asio 1.81 ambiguity).
struct call {
  std::function<void(error_code)>* f;
  void operator()(error_code ec) const { (*f)(ec); }
};

BOOST_AUTO_TEST_SUITE(allocation_tests)

BOOST_AUTO_TEST_CASE(owned_pipe_ping_pong_allocates_nothing_per_operation) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  ping_pong pp(ctx, p.take_read(), p.take_write(), 2000, 100);
  pp.write(std::vector<char>(8, 'x'));
  ctx.run();
  BOOST_TEST(pp.left == 0);
  BOOST_TEST(allocations == 0, allocations << " allocations in 1900 rounds");
}

BOOST_AUTO_TEST_CASE(timer_waits_and_posts_allocate_nothing_in_steady_state) {
  io_context ctx;
  asio_uring::steady_timer t(ctx);
  int rounds = 0;
  std::function<void(error_code)> on_wait; // built once, outside the count
  on_wait = [&](error_code ec) {
    BOOST_TEST_REQUIRE(!ec);
    if (++rounds == 100) {
      allocations = 0;
      counting = true;
    }
    if (rounds == 1100) {
      counting = false;
      return;
    }
    asio::post(ctx, [&] {
      t.expires_after(std::chrono::microseconds(1));
      t.async_wait(call{&on_wait});
    });
  };
  t.expires_after(std::chrono::microseconds(1));
  t.async_wait(call{&on_wait});
  ctx.run();
  BOOST_TEST(rounds == 1100);
  BOOST_TEST(allocations == 0, allocations << " allocations in 1000 waits + posts");
}

BOOST_AUTO_TEST_CASE(coroutine_owned_read_loop_allocates_nothing_per_operation) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read()), out(ctx, p.take_write());
  long counted = -1;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        std::vector<char> b(8, 'y');
        for (int i = 0; i < 1100; ++i) {
          if (i == 100) {
            allocations = 0;
            counting = true;
          }
          auto [wec, wn, wb] =
              co_await out.async_write_some(std::move(b), asio::as_tuple(asio::use_awaitable));
          auto [rec, rn, rb] =
              co_await in.async_read_some(std::move(wb), asio::as_tuple(asio::use_awaitable));
          BOOST_TEST_REQUIRE(!rec);
          b = std::move(rb);
        }
        counting = false;
        counted = allocations;
      },
      asio::detached);
  ctx.run();
  BOOST_TEST(counted == 0, counted << " allocations in 1000 coroutine rounds");
}

BOOST_AUTO_TEST_SUITE_END()
