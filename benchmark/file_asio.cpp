// File reads on Asio 1.81's own random_access_file (its io_uring backend): `depth` reads
// started at once on one file object, as a user would.
#include "file_scenarios.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/random_access_file.hpp>

#include <memory>
#include <vector>

namespace {

struct lane_runner {
  boost::asio::random_access_file& file;
  bench::offsets& offs;
  std::chrono::steady_clock::time_point end;
  std::uint64_t done = 0;
  bool stop = false;

  void next(char* buf, std::size_t n) {
    file.async_read_some_at(offs.next(), boost::asio::buffer(buf, n),
                            [this, buf, n](boost::system::error_code ec, std::size_t) {
                              if (ec) {
                                std::fprintf(stderr, "read: %s\n", ec.message().c_str());
                                std::exit(1);
                              }
                              ++done;
                              if ((done & 255) == 0 && std::chrono::steady_clock::now() >= end)
                                stop = true;
                              if (!stop)
                                next(buf, n);
                            });
  }
};

} // namespace

int main(int argc, char** argv) {
  auto a = bench::parse_file_args(argc, argv);
  boost::asio::io_context ctx;
  boost::asio::random_access_file f(ctx, bench::open_for(a));
  bench::offsets offs(a);
  std::vector<std::unique_ptr<char[], void (*)(char*)>> bufs;
  auto start = std::chrono::steady_clock::now();
  lane_runner r{f, offs,
                start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(a.seconds))};
  for (unsigned i = 0; i < a.depth; ++i) {
    void* p = nullptr;
    if (::posix_memalign(&p, 4096, a.block) != 0)
      return 1;
    bufs.emplace_back(static_cast<char*>(p), [](char* q) { std::free(q); });
    r.next(bufs.back().get(), a.block);
  }
  ctx.run();
  bench::report(a, r.done, bench::seconds_since_start(start));
}
