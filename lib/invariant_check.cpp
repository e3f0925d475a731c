// The kernel-access registry used to check the safety invariant in test builds.
#include <asio_uring/detail/invariant_check.hpp>

#include "invariant_check.hpp"

#include <linux/io_uring.h>

#include <atomic>
#include <cstring>
#include <cstdint>
#include <mutex>
#include <sys/socket.h>
#include <sys/uio.h>
#include <vector>

namespace asio_uring::detail {

#ifdef ASIO_URING_INVARIANT_CHECKS
namespace {
struct range {
  std::uintptr_t begin, end;
};
// One op's memory: its block plus what its SQE points at. Entries are reused (swap-and-pop),
// so the check itself allocates nothing in steady state (tests count allocations).
struct entry {
  const op_block* op;
  std::size_t count;
  range ranges[18];
};
struct registry {
  std::mutex mutex;
  std::vector<entry> entries;
};
registry& reg() {
  static registry* r = new registry; // never destroyed: ops may be leaked on purpose at exit
  return *r;
}
std::atomic<std::size_t> violations{0};
std::atomic<std::size_t> damaged_blocks{0};
constexpr unsigned char canary = 0xC5;
} // namespace

std::size_t canary_damaged_blocks() noexcept {
  return damaged_blocks.load();
}

bool invariant_checks_enabled() noexcept {
  return true;
}

bool kernel_may_access(const void* p, std::size_t n) noexcept {
  auto b = reinterpret_cast<std::uintptr_t>(p);
  auto e = b + (n ? n : 1);
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const entry& en : r.entries)
    for (std::size_t i = 0; i < en.count; ++i)
      if (b < en.ranges[i].end && en.ranges[i].begin < e)
        return true;
  return false;
}

std::size_t invariant_violations() noexcept {
  return violations.load();
}

namespace invariant {

void on_submit(const op_block* op) noexcept {
  const sqe_args& a = op->sqe_;
  entry en{op, 0, {}};
  auto base = reinterpret_cast<std::uintptr_t>(op);
  en.ranges[en.count++] = {base, base + op->block_size_};
  switch (a.opcode) {
  case IORING_OP_READ:
  case IORING_OP_WRITE:
  case IORING_OP_READ_FIXED:
  case IORING_OP_WRITE_FIXED:
  case IORING_OP_SEND:
  case IORING_OP_SEND_ZC:
  case IORING_OP_RECV:
    if (a.addr) // 0: a buffer the kernel picks from a buffer ring
      en.ranges[en.count++] = {a.addr, a.addr + a.len};
    break;
  case IORING_OP_SENDMSG:
  case IORING_OP_RECVMSG: {
    auto* msg = reinterpret_cast<const ::msghdr*>(a.addr);
    for (std::size_t i = 0; i < msg->msg_iovlen && en.count < std::size(en.ranges); ++i) {
      auto b = reinterpret_cast<std::uintptr_t>(msg->msg_iov[i].iov_base);
      en.ranges[en.count++] = {b, b + msg->msg_iov[i].iov_len};
    }
    break;
  }
  case IORING_OP_READV:
  case IORING_OP_WRITEV: {
    auto* iov = reinterpret_cast<const ::iovec*>(a.addr);
    for (std::uint32_t i = 0; i < a.len && en.count < std::size(en.ranges); ++i) {
      auto b = reinterpret_cast<std::uintptr_t>(iov[i].iov_base);
      en.ranges[en.count++] = {b, b + iov[i].iov_len};
    }
    break;
  }
  default:
    break;
  }
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.entries.push_back(en);
}

void on_final_cqe(const op_block* op) noexcept {
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (std::size_t i = r.entries.size(); i-- > 0;)
    if (r.entries[i].op == op) {
      r.entries[i] = r.entries.back();
      r.entries.pop_back();
      return;
    }
}

void on_free(const op_block* op) noexcept {
  registry& r = reg();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const entry& en : r.entries)
    if (en.op == op) {
      ++violations;
      return;
    }
}

void fill_canary(void* block, std::size_t size) noexcept {
  std::memset(static_cast<unsigned char*>(block) + sizeof(void*), canary, size - sizeof(void*));
}

void check_canary(const void* block, std::size_t size) noexcept {
  const auto* p = static_cast<const unsigned char*>(block);
  for (std::size_t i = sizeof(void*); i < size; ++i)
    if (p[i] != canary) {
      ++damaged_blocks;
      ++violations;
      return;
    }
}

} // namespace invariant

#else

bool invariant_checks_enabled() noexcept {
  return false;
}
bool kernel_may_access(const void*, std::size_t) noexcept {
  return false;
}
std::size_t invariant_violations() noexcept {
  return 0;
}
std::size_t canary_damaged_blocks() noexcept {
  return 0;
}
#endif

} // namespace asio_uring::detail
