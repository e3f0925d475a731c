// buffer_pool: registered buffers used through READ_FIXED / WRITE_FIXED, returned when destroyed,
// kept across a ring re-created for a new thread, and a clear error at the memlock limit.
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/post.hpp>

#include <cstring>
#include <linux/capability.h>
#include <string>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

namespace asio = boost::asio;
using asio_uring::buffer_pool;
using asio_uring::file_base;
using asio_uring::io_context;
using asio_uring::pooled_buffer;
using asio_uring::random_access_file;
using boost::system::error_code;

namespace {
struct temp_file {
  std::string path;
  explicit temp_file(const std::string& content) {
    char p[] = "/tmp/asio_uring_pool_XXXXXX";
    int fd = ::mkstemp(p);
    BOOST_TEST_REQUIRE(fd >= 0);
    BOOST_TEST_REQUIRE(::write(fd, content.data(), content.size()) ==
                       static_cast<ssize_t>(content.size()));
    ::close(fd);
    path = p;
  }
  ~temp_file() { ::unlink(path.c_str()); }
};
} // namespace

BOOST_AUTO_TEST_SUITE(buffer_pool_tests)

BOOST_AUTO_TEST_CASE(pooled_buffers_read_and_write_files_with_fixed_opcodes) {
  io_context ctx;
  std::string content(8192, 'q');
  temp_file tmp(content);
  buffer_pool pool(ctx, 4, 4096);
  BOOST_TEST(pool.available() == 4u);
  random_access_file f(ctx, tmp.path, file_base::read_write);
  auto b = pool.try_acquire();
  BOOST_TEST_REQUIRE(b.has_value());
  unsigned index = b->index();
  bool done = false;
  f.async_read_some_at(4096, std::move(*b), [&](error_code ec, std::size_t n, pooled_buffer back) {
    BOOST_TEST(!ec);
    BOOST_TEST(n == 4096u);
    BOOST_TEST(back.index() == index);
    BOOST_TEST(std::memcmp(back.data(), content.data(), 4096) == 0);
    std::memset(back.data(), 'w', back.size());
    f.async_write_some_at(0, std::move(back), [&](error_code wec, std::size_t wn, pooled_buffer) {
      BOOST_TEST(!wec);
      BOOST_TEST(wn == 4096u);
      done = true;
    });
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(done);
  BOOST_TEST(pool.available() == 4u); // every buffer came back to the pool
  char check[4];
  BOOST_TEST(f.read_some_at(0, asio::buffer(check)) == 4u);
  BOOST_TEST(std::string(check, 4) == "wwww");
}

BOOST_AUTO_TEST_CASE(exhausted_pool_says_so_and_refills_on_destruction) {
  io_context ctx;
  buffer_pool pool(ctx, 2, 512);
  auto a = pool.try_acquire();
  auto b = pool.try_acquire();
  BOOST_TEST(a.has_value());
  BOOST_TEST(b.has_value());
  BOOST_TEST(!pool.try_acquire().has_value());
  a.reset();
  BOOST_TEST(pool.available() == 1u);
  BOOST_TEST(pool.try_acquire().has_value());
}

BOOST_AUTO_TEST_CASE(registration_survives_a_ring_recreated_for_a_new_thread) {
  io_context ctx;
  std::string content(4096, 'z');
  temp_file tmp(content);
  buffer_pool pool(ctx, 2, 4096);
  random_access_file f(ctx, tmp.path, file_base::read_only);
  std::thread([&] { ctx.run(); }).join(); // the worker owned the ring, then exited
  ctx.restart();
  std::size_t got = 0;
  f.async_read_some_at(0, std::move(*pool.try_acquire()),
                       [&](error_code ec, std::size_t n, pooled_buffer) { got = ec ? 0 : n; });
  asio_uring::test::run_bounded(ctx); // this thread gets a fresh ring, buffers registered again
  BOOST_TEST(got == 4096u);
}

BOOST_AUTO_TEST_CASE(registering_from_a_thread_that_does_not_own_the_ring_is_refused) {
  io_context ctx;
  auto guard = asio::make_work_guard(ctx);
  std::thread runner([&] { ctx.run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  try {
    buffer_pool pool(ctx, 1, 64);
    BOOST_ERROR("no exception");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST(std::string(e.what()).find("thread running the io_context") != std::string::npos);
  }
  std::atomic<bool> made{false};
  asio::post(ctx, [&] {
    buffer_pool pool(ctx, 1, 64); // on the running thread: fine
    made = true;
  });
  while (!made)
    std::this_thread::yield();
  guard.reset();
  runner.join();
}

// Registered buffers are locked memory: over RLIMIT_MEMLOCK (without CAP_IPC_LOCK) the error
// says so and how to fix it.
BOOST_AUTO_TEST_CASE(memlock_limit_gives_a_clear_error) {
  auto [status, what] = asio_uring::test::expect_error_in_child(
      ENOMEM,
      [] {
        __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2];
        if (::syscall(SYS_capget, &hdr, data) != 0)
          return false;
        data[0].effective &= ~(1u << CAP_IPC_LOCK); // before the ring: it is charged then
        rlimit rl{64 * 1024, 64 * 1024};
        return ::syscall(SYS_capset, &hdr, data) == 0 && ::setrlimit(RLIMIT_MEMLOCK, &rl) == 0;
      },
      [] {
        io_context ctx;
        buffer_pool pool(ctx, 64, 1 << 20); // 64 MiB
      });
  BOOST_TEST(status == 0, "child exit " << status << ": " << what);
  BOOST_TEST(what.find("RLIMIT_MEMLOCK") != std::string::npos);
  BOOST_TEST(what.find("ulimit -l") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
