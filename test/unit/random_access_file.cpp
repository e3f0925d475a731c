// Files: random_access_file and stream_file, owned and borrowed, the owned "all of it" free
// functions, sync and async fsync, and bad input.
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/read_at.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/write_at.hpp>

#include <cstdio>
#include <fcntl.h>
#include <numeric>
#include <string>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
using asio_uring::file_base;
using asio_uring::io_context;
using asio_uring::random_access_file;
using asio_uring::stream_file;
using asio_uring::test::tracked_buffer;
using boost::system::error_code;

namespace {
// A temporary file path, removed at the end.
struct temp_path {
  std::string path;
  temp_path() {
    char p[] = "/tmp/asio_uring_file_XXXXXX";
    int fd = ::mkstemp(p);
    BOOST_TEST_REQUIRE(fd >= 0);
    ::close(fd);
    path = p;
  }
  ~temp_path() { ::unlink(path.c_str()); }
};
std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}
} // namespace

BOOST_FIXTURE_TEST_SUITE(random_access_file_tests, asio_uring::test::tracked_fixture)

BOOST_AUTO_TEST_CASE(owned_write_at_then_read_at_round_trip) {
  io_context ctx;
  temp_path tmp;
  random_access_file f(ctx, tmp.path, file_base::read_write | file_base::truncate);
  std::string data = pattern(10000);
  asio_uring::async_write_at(
      f, 100, std::string(data), [&](error_code ec, std::size_t n, std::string b) {
        BOOST_TEST(!ec);
        BOOST_TEST(n == data.size());
        BOOST_TEST(b == data); // the whole buffer comes back
        asio_uring::async_read_at(f, 100, std::vector<char>(data.size()),
                                  [&](error_code ec2, std::size_t n2, std::vector<char> r) {
                                    BOOST_TEST(!ec2);
                                    BOOST_TEST(n2 == data.size());
                                    BOOST_TEST(std::string(r.begin(), r.end()) == data);
                                  });
      });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(f.size() == 10100u);
}

BOOST_AUTO_TEST_CASE(many_reads_in_flight_on_one_file) {
  io_context ctx;
  temp_path tmp;
  std::string data = pattern(64 * 4096);
  {
    random_access_file w(ctx, tmp.path, file_base::write_only);
    BOOST_TEST(w.write_some_at(0, asio::buffer(data)) == data.size());
  }
  random_access_file f(ctx, tmp.path, file_base::read_only);
  int ok = 0;
  for (int i = 0; i < 64; ++i)
    f.async_read_some_at(
        i * 4096u, tracked_buffer(4096), [&, i](error_code ec, std::size_t n, tracked_buffer b) {
          ok += !ec && n == 4096 && std::memcmp(b.data(), data.data() + i * 4096, 4096) == 0;
        });
  BOOST_TEST(ctx.poll() <= 64u); // all submitted together, not one at a time
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(ok == 64);
}

BOOST_AUTO_TEST_CASE(reading_past_eof_is_eof_with_the_partial_count) {
  io_context ctx;
  temp_path tmp;
  random_access_file f(ctx, tmp.path, file_base::read_write);
  BOOST_TEST(f.write_some_at(0, asio::buffer("abc", 3)) == 3u);
  error_code e1, e2;
  std::size_t n1 = 9, n2 = 9;
  f.async_read_some_at(10, tracked_buffer(8), [&](error_code ec, std::size_t n, tracked_buffer b) {
    e1 = ec;
    n1 = n;
    BOOST_TEST(b.size() == 8u);
  });
  asio_uring::async_read_at(f, 0, std::string(8, '\0'),
                            [&](error_code ec, std::size_t n, std::string) {
                              e2 = ec;
                              n2 = n;
                            });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(e1 == asio::error::eof);
  BOOST_TEST(n1 == 0u);
  BOOST_TEST(e2 == asio::error::eof); // as boost::asio::async_read_at reports it
  BOOST_TEST(n2 == 3u);
}

BOOST_AUTO_TEST_CASE(borrowed_api_with_asio_composed_operations) {
  io_context ctx;
  temp_path tmp;
  random_access_file f(ctx, tmp.path, file_base::read_write);
  std::string data = pattern(50000), got(50000, '\0');
  asio::async_write_at(f, 0, asio::buffer(data), [&](error_code ec, std::size_t n) {
    BOOST_TEST(!ec);
    BOOST_TEST(n == data.size());
    asio::async_read_at(f, 0, asio::buffer(got), [&](error_code ec2, std::size_t n2) {
      BOOST_TEST(!ec2);
      BOOST_TEST(n2 == data.size());
    });
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == data);
}

BOOST_AUTO_TEST_CASE(stream_file_reads_and_writes_at_the_position) {
  io_context ctx;
  temp_path tmp;
  stream_file out(ctx, tmp.path, file_base::write_only | file_base::truncate);
  std::string data = pattern(30000);
  asio_uring::async_write(out, std::string(data), [&](error_code ec, std::size_t n, std::string) {
    BOOST_TEST(!ec);
    BOOST_TEST(n == data.size());
    out.async_sync_all([&](error_code sec) { BOOST_TEST(!sec); });
  });
  asio_uring::test::run_bounded(ctx);
  ctx.restart();
  stream_file in(ctx, tmp.path, file_base::read_only);
  BOOST_TEST(in.seek(10, file_base::seek_set) == 10u);
  std::string got;
  asio_uring::async_read(in, std::vector<char>(40000),
                         [&](error_code ec, std::size_t n, std::vector<char> b) {
                           BOOST_TEST(ec == asio::error::eof);
                           got.assign(b.data(), n);
                         });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == data.substr(10));
}

BOOST_AUTO_TEST_CASE(slice_targets_a_sub_range_and_returns_the_whole_buffer) {
  io_context ctx;
  temp_path tmp;
  random_access_file f(ctx, tmp.path, file_base::read_write);
  BOOST_TEST(f.write_some_at(0, asio::buffer("0123456789", 10)) == 10u);
  std::string buf(10, '.');
  f.async_read_some_at(2, asio_uring::slice(std::move(buf), 4, 3),
                       [&](error_code ec, std::size_t n, asio_uring::sliced_buffer<std::string> s) {
                         BOOST_TEST(!ec);
                         BOOST_TEST(n == 3u);
                         BOOST_TEST(std::move(s).release() == "....234...");
                       });
  asio_uring::test::run_bounded(ctx);
}

BOOST_AUTO_TEST_CASE(async_fsync_and_datasync) {
  io_context ctx;
  temp_path tmp;
  random_access_file f(ctx, tmp.path, file_base::read_write);
  int ok = 0;
  f.async_sync_all([&](error_code ec) { ok += !ec; });
  f.async_sync_data([&](error_code ec) { ok += !ec; });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(ok == 2);
  f.sync_all();
  f.sync_data();
  f.resize(123);
  BOOST_TEST(f.size() == 123u);
}

BOOST_AUTO_TEST_CASE(bad_input_gives_clear_errors_and_loses_nothing) {
  io_context ctx;
  random_access_file f(ctx);
  error_code ec;
  f.open("/nonexistent/asio_uring", file_base::read_only, ec);
  BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory);
  f.open("/sys/kernel/notes", file_base::write_only, ec);
  BOOST_TEST(ec == boost::system::errc::permission_denied);
  f.open("/tmp", file_base::read_only, ec);
  BOOST_TEST(ec == boost::system::errc::is_a_directory);
  BOOST_CHECK_THROW(random_access_file(ctx, "/nonexistent/x", file_base::read_only),
                    boost::system::system_error);
  BOOST_TEST(!f.is_open());
  // A closed file: the error is posted, the buffer comes back.
  error_code closed_ec;
  std::size_t back = 0;
  f.async_read_some_at(0, tracked_buffer(16), [&](error_code e, std::size_t, tracked_buffer b) {
    closed_ec = e;
    back = b.size();
  });
  BOOST_TEST(!closed_ec);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(closed_ec == asio::error::bad_descriptor);
  BOOST_TEST(back == 16u);
}

BOOST_AUTO_TEST_CASE(o_direct_needs_alignment_and_says_so) {
  io_context ctx;
  temp_path tmp;
  {
    random_access_file w(ctx, tmp.path, file_base::write_only);
    std::string data = pattern(8192);
    BOOST_TEST(w.write_some_at(0, asio::buffer(data)) == data.size());
  }
  random_access_file f(ctx);
  error_code ec;
  f.open(tmp.path, file_base::read_only | file_base::direct, ec);
  if (ec) { // e.g. tmpfs: O_DIRECT unsupported
    BOOST_TEST_MESSAGE("O_DIRECT unsupported here: " << ec.message());
    return;
  }
  error_code aligned_ec, misaligned_ec;
  f.async_read_some_at(0, asio_uring::heap_buffer(4096, 4096),
                       [&](error_code e, std::size_t n, asio_uring::heap_buffer) {
                         aligned_ec = e;
                         BOOST_TEST(n == 4096u);
                       });
  f.async_read_some_at(1, asio_uring::heap_buffer(100, 8),
                       [&](error_code e, std::size_t, asio_uring::heap_buffer b) {
                         misaligned_ec = e;
                         BOOST_TEST(b.size() == 100u);
                       });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(!aligned_ec);
  BOOST_TEST(misaligned_ec == boost::system::errc::invalid_argument);
}

// The classic unqualified call found by ADL stays unambiguous and picks Asio's.
BOOST_AUTO_TEST_CASE(unqualified_async_write_with_asio_buffer_picks_asio) {
  io_context ctx;
  temp_path tmp;
  stream_file f(ctx, tmp.path, file_base::write_only);
  const char d[] = "hello";
  std::size_t n = 0;
  async_write(f, asio::buffer(d, 5), [&](error_code ec, std::size_t k) {
    BOOST_TEST(!ec);
    n = k;
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(n == 5u);
}

BOOST_AUTO_TEST_CASE(asio_async_read_over_a_stream_file_works_unchanged) {
  io_context ctx;
  temp_path tmp;
  std::string data = pattern(20000), got(20000, '\0');
  {
    random_access_file w(ctx, tmp.path, file_base::write_only);
    BOOST_TEST(w.write_some_at(0, asio::buffer(data)) == data.size());
  }
  stream_file in(ctx, tmp.path, file_base::read_only);
  asio::async_read(in, asio::buffer(got), [&](error_code ec, std::size_t n) {
    BOOST_TEST(!ec);
    BOOST_TEST(n == data.size());
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == data);
}

BOOST_AUTO_TEST_SUITE_END()
