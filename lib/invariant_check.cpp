// The kernel-access registry used to check the safety invariant in test builds.
#include <asio_uring/detail/invariant_check.hpp>

#include "invariant_check.hpp"

#include <linux/io_uring.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <sys/uio.h>
#include <unordered_map>
#include <vector>

namespace asio_uring::detail {

#ifdef ASIO_URING_INVARIANT_CHECKS
namespace {
struct range {
  std::uintptr_t begin, end;
};
struct registry {
  std::mutex mutex;
  std::unordered_map<const op_block*, std::vector<range>> ranges;
};
registry& reg() {
  static registry* r = new registry; // never destroyed: ops may be leaked on purpose at exit
  return *r;
}
std::atomic<std::size_t> violations{0};
bool overlaps(const std::vector<range>& rs, std::uintptr_t b, std::uintptr_t e) {
  for (const range& r : rs)
    if (b < r.end && r.begin < e)
      return true;
  return false;
}
} // namespace

bool invariant_checks_enabled() noexcept { return true; }

bool kernel_may_access(const void* p, std::size_t n) noexcept {
  auto b = reinterpret_cast<std::uintptr_t>(p);
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (auto& [op, rs] : r.ranges)
    if (overlaps(rs, b, b + (n ? n : 1)))
      return true;
  return false;
}

std::size_t invariant_violations() noexcept { return violations.load(); }

namespace invariant {

void on_submit(const op_block* op) noexcept {
  const sqe_args& a = op->sqe_;
  std::vector<range> rs;
  auto base = reinterpret_cast<std::uintptr_t>(op);
  rs.push_back({base, base + op->block_size_});
  switch (a.opcode) {
  case IORING_OP_READ:
  case IORING_OP_WRITE:
  case IORING_OP_READ_FIXED:
  case IORING_OP_WRITE_FIXED:
  case IORING_OP_SEND:
  case IORING_OP_RECV:
    rs.push_back({a.addr, a.addr + a.len});
    break;
  case IORING_OP_READV:
  case IORING_OP_WRITEV: {
    auto* iov = reinterpret_cast<const ::iovec*>(a.addr);
    for (std::uint32_t i = 0; i < a.len; ++i) {
      auto b = reinterpret_cast<std::uintptr_t>(iov[i].iov_base);
      rs.push_back({b, b + iov[i].iov_len});
    }
    break;
  }
  default:
    break;
  }
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.ranges[op] = std::move(rs);
}

void on_final_cqe(const op_block* op) noexcept {
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.ranges.erase(op);
}

void on_free(const op_block* op) noexcept {
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.ranges.count(op))
    ++violations;
}

} // namespace invariant

#else

bool invariant_checks_enabled() noexcept { return false; }
bool kernel_may_access(const void*, std::size_t) noexcept { return false; }
std::size_t invariant_violations() noexcept { return 0; }
namespace invariant {
void on_submit(const op_block*) noexcept {}
void on_final_cqe(const op_block*) noexcept {}
void on_free(const op_block*) noexcept {}
} // namespace invariant

#endif

} // namespace asio_uring::detail
