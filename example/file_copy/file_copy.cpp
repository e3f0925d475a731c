// file_copy: copies a file with N owned buffers in flight (each read at its offset, then written
// at the same offset) and prints the throughput.
//   file_copy <source> <destination> [buffers=8] [buffer_kib=256] [--direct] [--fixed]
#include <asio_uring.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace {

using asio_uring::file_base;
using boost::system::error_code;

struct copier {
  asio_uring::random_access_file& in;
  asio_uring::random_access_file& out;
  std::uint64_t size;
  std::size_t chunk;
  bool direct;
  std::uint64_t next = 0; // next offset to read
  std::uint64_t written = 0;
  error_code failure{};

  // One lane: read a chunk, write it, take the next chunk; the buffer moves along the whole way.
  template <class Buffer>
  void read_next(Buffer buf) {
    if (next >= size || failure)
      return;
    std::uint64_t at = next;
    next += chunk;
    auto on_read = [this, at](error_code ec, std::size_t n, auto part) {
      if (ec && ec != boost::asio::error::eof)
        return fail(ec);
      // O_DIRECT writes whole aligned blocks; the file is cut to size at the end.
      if (direct)
        n = (n + 4095) & ~std::size_t(4095);
      write(at, n, std::move(part).release());
    };
    if (direct) // one read: a short O_DIRECT read is the end of the file
      in.async_read_some_at(at, asio_uring::slice(std::move(buf), 0, chunk), on_read);
    else
      asio_uring::async_read_at(in, at, asio_uring::slice(std::move(buf), 0, chunk), on_read);
  }
  template <class Buffer>
  void write(std::uint64_t at, std::size_t n, Buffer buf) {
    asio_uring::async_write_at(out, at, asio_uring::slice(std::move(buf), 0, n),
                               [this](error_code ec, std::size_t k, auto part) {
                                 if (ec)
                                   return fail(ec);
                                 written += k;
                                 read_next(std::move(part).release());
                               });
  }
  void fail(error_code ec) {
    if (!failure)
      failure = ec;
  }
};

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s <source> <destination> [buffers=8] [buffer_kib=256] "
                 "[--direct] [--fixed]\n",
                 argv[0]);
    return 2;
  }
  std::size_t lanes = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 8;
  std::size_t chunk = (argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 256) * 1024;
  bool direct = false, fixed = false;
  for (int i = 5; i < argc; ++i) {
    direct |= std::strcmp(argv[i], "--direct") == 0;
    fixed |= std::strcmp(argv[i], "--fixed") == 0;
  }
  try {
    asio_uring::io_context ctx;
    auto extra = direct ? file_base::direct : file_base::flags{};
    asio_uring::random_access_file in(ctx, argv[1], file_base::read_only | extra);
    asio_uring::random_access_file out(
        ctx, argv[2], file_base::write_only | file_base::create | file_base::truncate | extra);
    std::uint64_t size = in.size();
    copier c{in, out, size, chunk, direct};
    std::optional<asio_uring::buffer_pool> pool;
    if (fixed)
      pool.emplace(ctx, lanes, chunk);
    for (std::size_t i = 0; i < lanes; ++i) {
      if (pool)
        c.read_next(std::move(*pool->try_acquire()));
      else
        c.read_next(asio_uring::heap_buffer(chunk, 4096)); // aligned: fine for O_DIRECT too
    }
    auto t0 = std::chrono::steady_clock::now();
    ctx.run();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (c.failure) {
      std::fprintf(stderr, "copy failed: %s\n", c.failure.message().c_str());
      return 1;
    }
    if (direct)
      out.resize(size); // O_DIRECT wrote whole aligned chunks
    std::printf("copied %llu bytes in %.3f s: %.1f MiB/s (%zu buffers of %zu KiB%s%s)\n",
                static_cast<unsigned long long>(c.written < size ? c.written : size), s,
                static_cast<double>(size) / (1 << 20) / (s > 0 ? s : 1), lanes, chunk / 1024,
                direct ? ", O_DIRECT" : "", fixed ? ", registered buffers" : "");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "file_copy: %s\n", e.what());
    return 1;
  }
}
