// Test fixtures: a bounded run of a context, pipes, and the tracked-buffer checks.
#pragma once

#include "tracked_buffer.hpp"

#include <asio_uring/detail/invariant_check.hpp>
#include <asio_uring/io_context.hpp>

#include <boost/test/unit_test.hpp>

#include <boost/system/system_error.hpp>

#include <chrono>
#include <string>
#include <sys/wait.h>
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

/// What a forked child reported: its exit status (0: the expected system_error was thrown) and
/// that error's what().
struct child_result {
  int status = -1;
  std::string what;
};

/// In a forked child, runs `setup` (false: exit 3), then `body`, which must throw
/// boost::system::system_error with `expected_errno`. Used to put the process in a state the
/// test runner must not be in (seccomp filters, dropped capabilities, rlimits).
template <class Setup, class Body>
child_result expect_error_in_child(int expected_errno, Setup setup, Body body) {
  int fds[2];
  BOOST_TEST_REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (!setup())
      ::_exit(3);
    try {
      body();
      ::_exit(1);
    } catch (const boost::system::system_error& e) {
      std::string m = e.what();
      (void)!::write(fds[1], m.data(), m.size());
      ::_exit(e.code().value() == expected_errno ? 0 : 2);
    }
  }
  ::close(fds[1]);
  child_result r;
  char buf[2048];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
    r.what.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

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
