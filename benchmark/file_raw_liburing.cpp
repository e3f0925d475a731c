// The ceiling: the same reads with raw liburing, `depth` SQEs in flight, one io_uring_enter per
// batch of completions.
#include "file_scenarios.hpp"

#include <liburing.h>

#include <vector>

int main(int argc, char** argv) {
  auto a = bench::parse_file_args(argc, argv);
  int fd = bench::open_for(a);
  io_uring ring;
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (io_uring_queue_init_params(256, &ring, &p) < 0 && io_uring_queue_init(256, &ring, 0) < 0)
    return 1;
  std::vector<char*> bufs(a.depth);
  std::vector<iovec> iov(a.depth);
  for (unsigned i = 0; i < a.depth; ++i) {
    void* q = nullptr;
    if (::posix_memalign(&q, 4096, a.block) != 0)
      return 1;
    bufs[i] = static_cast<char*>(q);
    iov[i] = {q, a.block};
  }
  if (a.fixed && io_uring_register_buffers(&ring, iov.data(), a.depth) < 0)
    return 1;
  bench::offsets offs(a);
  auto prep = [&](unsigned i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (a.fixed)
      io_uring_prep_read_fixed(sqe, fd, bufs[i], a.block, offs.next(), static_cast<int>(i));
    else
      io_uring_prep_read(sqe, fd, bufs[i], a.block, offs.next());
    sqe->user_data = i;
  };
  for (unsigned i = 0; i < a.depth; ++i)
    prep(i);
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(a.seconds));
  std::uint64_t done = 0;
  bool stop = false;
  unsigned inflight = a.depth;
  while (inflight > 0) {
    io_uring_submit_and_wait(&ring, 1);
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      if (cqe->res < 0) {
        std::fprintf(stderr, "read: %s\n", std::strerror(-cqe->res));
        return 1;
      }
      ++done;
      if ((done & 255) == 0 && std::chrono::steady_clock::now() >= end)
        stop = true;
      if (stop)
        --inflight;
      else
        prep(static_cast<unsigned>(cqe->user_data));
    }
    io_uring_cq_advance(&ring, seen);
  }
  bench::report(a, done, bench::seconds_since_start(start));
}
