// File reads on asio_uring::random_access_file: `depth` owned buffers in flight on one file.
#include "file_scenarios.hpp"

#include <asio_uring.hpp>

#include <optional>

namespace {

struct lane_runner {
  asio_uring::random_access_file& file;
  bench::offsets& offs;
  std::chrono::steady_clock::time_point end;
  std::uint64_t done = 0;
  bool stop = false;

  template <class Buffer>
  void next(Buffer b) {
    file.async_read_some_at(offs.next(), std::move(b),
                            [this](boost::system::error_code ec, std::size_t, Buffer back) {
                              if (ec) {
                                std::fprintf(stderr, "read: %s\n", ec.message().c_str());
                                std::exit(1);
                              }
                              ++done;
                              // Check the clock every 256 completions only.
                              if ((done & 255) == 0 && std::chrono::steady_clock::now() >= end)
                                stop = true;
                              if (!stop)
                                next(std::move(back));
                            });
  }
};

} // namespace

int main(int argc, char** argv) {
  auto a = bench::parse_file_args(argc, argv);
  asio_uring::io_context::options o;
  o.submit = a.immediate ? asio_uring::submit_policy::immediate : asio_uring::submit_policy::batch;
  asio_uring::io_context ctx(o);
  asio_uring::random_access_file f(ctx, bench::open_for(a));
  bench::offsets offs(a);
  std::optional<asio_uring::buffer_pool> pool;
  if (a.fixed)
    pool.emplace(ctx, a.depth, a.block);
  auto start = std::chrono::steady_clock::now();
  lane_runner r{f, offs,
                start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(a.seconds))};
  for (unsigned i = 0; i < a.depth; ++i) {
    if (pool)
      r.next(std::move(*pool->try_acquire()));
    else
      r.next(asio_uring::heap_buffer(a.block, 4096));
  }
  ctx.run();
  bench::report(a, r.done, bench::seconds_since_start(start));
}
