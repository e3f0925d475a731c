// Test fixtures: a bounded run of a context, pipes, and the tracked-buffer checks.
#pragma once

#include "tracked_buffer.hpp"

#include <asio_uring/detail/invariant_check.hpp>
#include <asio_uring/io_context.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <unistd.h>

namespace asio_uring::test {

/// Runs `ctx` until it runs out of work; fails the test if that takes longer than `limit`.
inline void run_bounded(io_context& ctx,
                        std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  ctx.run_for(limit);
  BOOST_TEST_REQUIRE(ctx.stopped(), "io_context still had work after " << limit.count() << " ms");
}

/// A pipe, closed on destruction (ends already handed out are -1).
struct pipe_pair {
  int read_end = -1, write_end = -1;
  pipe_pair() {
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~pipe_pair() {
    if (read_end >= 0)
      ::close(read_end);
    if (write_end >= 0)
      ::close(write_end);
  }
  int take_read() { return std::exchange(read_end, -1); }
  int take_write() { return std::exchange(write_end, -1); }
};

/// Resets the tracked-buffer counters and checks them at the end of the test case: no buffer
/// destroyed while the kernel could touch it, none destroyed twice, none leaked.
struct tracked_fixture {
  std::size_t violations_before = detail::invariant_violations();
  tracked_fixture() {
    BOOST_TEST_REQUIRE(detail::invariant_checks_enabled(),
                       "build with ASIO_URING_INVARIANT_CHECKS=ON");
    stats().reset();
  }
  ~tracked_fixture() {
    BOOST_TEST(stats().destroyed_in_use.load() == 0);
    BOOST_TEST(stats().destroyed_twice.load() == 0);
    BOOST_TEST(stats().live.load() == 0);
    BOOST_TEST(detail::invariant_violations() == violations_before);
  }
};

} // namespace asio_uring::test
