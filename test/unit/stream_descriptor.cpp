// posix::stream_descriptor over a pipe: owned and borrowed reads and writes, EOF, errors.
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <fcntl.h>
#include <functional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio_uring::io_context;
using asio_uring::posix::stream_descriptor;
using asio_uring::test::tracked_buffer;
using boost::system::error_code;

BOOST_FIXTURE_TEST_SUITE(stream_descriptor_tests, asio_uring::test::tracked_fixture)

BOOST_AUTO_TEST_CASE(owned_read_hands_back_the_same_storage_with_the_data) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  BOOST_TEST_REQUIRE(::write(p.write_end, "hello", 5) == 5);
  tracked_buffer buf(64);
  auto id = buf.id();
  std::byte* storage = buf.data();
  bool done = false;
  in.async_read_some(std::move(buf), [&](error_code ec, std::size_t n, tracked_buffer b) {
    done = true;
    BOOST_TEST(!ec);
    BOOST_TEST(n == 5u);
    BOOST_TEST(b.id() == id);
    BOOST_TEST(b.data() == storage);
    BOOST_TEST(b.size() == 64u); // no resize to n
    BOOST_TEST(std::string(reinterpret_cast<char*>(b.data()), n) == "hello");
  });
  BOOST_TEST(!done); // never inside the initiating call
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(done);
}

BOOST_AUTO_TEST_CASE(owned_write_then_read_with_string_vector_and_array) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read()), out(ctx, p.take_write());
  std::string s = "abc"; // small-string storage: moved into the op block before data() is taken
  out.async_write_some(std::move(s), [&](error_code ec, std::size_t n, std::string back) {
    BOOST_TEST(!ec);
    BOOST_TEST(n == 3u);
    BOOST_TEST(back == "abc");
  });
  std::array<char, 3> a{'d', 'e', 'f'};
  out.async_write_some(std::move(a), [&](error_code ec, std::size_t n, std::array<char, 3>) {
    BOOST_TEST(!ec);
    BOOST_TEST(n == 3u);
  });
  std::string got;
  std::function<void(error_code, std::size_t, std::vector<char>)> on_read;
  on_read = [&](error_code ec, std::size_t n, std::vector<char> v) {
    BOOST_TEST(!ec);
    got.append(v.data(), n);
    if (got.size() < 6)
      in.async_read_some(std::move(v), on_read);
  };
  in.async_read_some(std::vector<char>(16), on_read);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == "abcdef");
}

BOOST_AUTO_TEST_CASE(read_at_eof_reports_eof_with_the_buffer) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  ::close(p.take_write());
  bool done = false;
  in.async_read_some(tracked_buffer(8), [&](error_code ec, std::size_t n, tracked_buffer b) {
    done = true;
    BOOST_TEST(ec == asio::error::eof);
    BOOST_TEST(n == 0u);
    BOOST_TEST(b.size() == 8u);
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(done);
}

BOOST_AUTO_TEST_CASE(zero_length_and_closed_object_complete_posted_without_sqe) {
  io_context ctx;
  stream_descriptor closed(ctx);
  int calls = 0;
  closed.async_read_some(tracked_buffer(4), [&](error_code ec, std::size_t n, tracked_buffer b) {
    ++calls;
    BOOST_TEST(ec == asio::error::bad_descriptor);
    BOOST_TEST(n == 0u);
    BOOST_TEST(b.size() == 4u); // nothing lost
  });
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  in.async_read_some(tracked_buffer(0), [&](error_code ec, std::size_t n, tracked_buffer) {
    ++calls;
    BOOST_TEST(!ec);
    BOOST_TEST(n == 0u);
  });
  BOOST_TEST(calls == 0);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(calls == 2);
}

BOOST_AUTO_TEST_CASE(borrowed_api_works_with_asio_composed_operations) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read()), out(ctx, p.take_write());
  std::string msg(100000, 'x'); // larger than the pipe buffer: several writes
  for (std::size_t i = 0; i < msg.size(); ++i)
    msg[i] = static_cast<char>('a' + i % 26);
  std::string got(msg.size(), '\0');
  asio::async_write(out, asio::buffer(msg), [&](error_code ec, std::size_t n) {
    BOOST_TEST(!ec);
    BOOST_TEST(n == msg.size());
  });
  asio::async_read(in, asio::buffer(got), [&](error_code ec, std::size_t n) {
    BOOST_TEST(!ec);
    BOOST_TEST(n == msg.size());
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == msg);
}

BOOST_AUTO_TEST_CASE(borrowed_scatter_read_fills_several_buffers) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  BOOST_TEST_REQUIRE(::write(p.write_end, "abcdef", 6) == 6);
  char a[2], b[4];
  std::array<asio::mutable_buffer, 2> bufs{asio::buffer(a), asio::buffer(b)};
  in.async_read_some(bufs, [&](error_code ec, std::size_t n) {
    BOOST_TEST(!ec);
    BOOST_TEST(n == 6u);
  });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(std::string(a, 2) == "ab");
  BOOST_TEST(std::string(b, 4) == "cdef");
}

BOOST_AUTO_TEST_CASE(close_cancels_pending_reads_and_hands_buffers_back) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  int aborted = 0;
  for (int i = 0; i < 3; ++i)
    in.async_read_some(tracked_buffer(16), [&](error_code ec, std::size_t, tracked_buffer b) {
      aborted += ec == asio::error::operation_aborted && b.size() == 16;
    });
  asio::post(ctx, [&] { in.close(); });
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(aborted == 3);
  BOOST_TEST(!in.is_open());
}

BOOST_AUTO_TEST_CASE(sync_read_and_write) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read()), out(ctx, p.take_write());
  BOOST_TEST(out.write_some(asio::buffer("xyz", 3)) == 3u);
  char buf[8];
  BOOST_TEST(in.read_some(asio::buffer(buf)) == 3u);
  out.close();
  error_code ec;
  BOOST_TEST(in.read_some(asio::buffer(buf), ec) == 0u);
  BOOST_TEST(ec == asio::error::eof);
}

BOOST_AUTO_TEST_CASE(assign_clears_o_nonblock) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  ::fcntl(p.read_end, F_SETFL, O_NONBLOCK);
  stream_descriptor in(ctx, p.take_read());
  BOOST_TEST((::fcntl(in.native_handle(), F_GETFL) & O_NONBLOCK) == 0);
  // A read on an empty pipe waits (it would fail with EAGAIN on an O_NONBLOCK fd).
  bool done = false;
  in.async_read_some(std::vector<char>(4), [&](error_code ec, std::size_t n, std::vector<char>) {
    done = !ec && n == 1;
  });
  BOOST_TEST(ctx.poll() == 0u);
  BOOST_TEST_REQUIRE(::write(p.write_end, "z", 1) == 1);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(done);
}

BOOST_AUTO_TEST_SUITE_END()
