// Ring setup with per-flag fallback, user-facing errors for an unusable io_uring, SQE supply.
#include "ring_state.hpp"

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <cstring>
#include <string>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace asio_uring::detail {

namespace {

constexpr const char* out_of_fds = ": out of file descriptors (RLIMIT_NOFILE). Remedy: raise "
                                   "`ulimit -n` or close descriptors";

std::string setup_failure_message(int err) {
  std::string m = "asio_uring::io_context: io_uring_setup failed";
  switch (err) {
  case ENOSYS:
    return m + " (ENOSYS): this kernel has no io_uring, or a seccomp filter (e.g. a container "
               "runtime's default profile) blocks it. Remedy: run on Linux 5.19 or newer and "
               "allow io_uring_setup, io_uring_enter and io_uring_register in the seccomp "
               "profile";
  case EPERM:
  case EACCES:
    return m + " (EPERM): io_uring is switched off by sysctl kernel.io_uring_disabled (2: for "
               "everyone; 1: unless in kernel.io_uring_group) or denied by seccomp/LSM. Remedy: "
               "sysctl -w kernel.io_uring_disabled=0, or add this user to kernel.io_uring_group";
  case ENOMEM:
    return m + " (ENOMEM): the rings could not be allocated or locked (RLIMIT_MEMLOCK counts "
               "them on kernels before 5.12). Remedy: raise `ulimit -l`, or use a smaller "
               "io_context::options::entries";
  case EMFILE:
  case ENFILE:
    return m + out_of_fds;
  case EINVAL:
    return m + " (EINVAL): the kernel rejected the ring parameters even without optional "
               "flags. Remedy: use a power-of-two io_context::options::entries <= 32768";
  default:
    return m;
  }
}

[[noreturn]] void throw_errno(int err, const char* what) {
  throw boost::system::system_error(
      boost::system::error_code(err, boost::system::system_category()), what);
}

} // namespace

ring_state::ring_state(const io_context_options& opts) : opts_(opts) {
  wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    int err = errno;
    throw boost::system::system_error(
        boost::system::error_code(err, boost::system::system_category()),
        std::string("asio_uring::io_context: creating its eventfd failed") +
            (err == EMFILE || err == ENFILE ? out_of_fds : ""));
  }
  try {
    setup();
  } catch (...) {
    ::close(wake_fd);
    throw;
  }
}

void ring_state::setup() {
  unsigned cq = opts_.cq_entries ? opts_.cq_entries : opts_.entries * 4;
  // Flags in the order they are given up when the kernel answers EINVAL.
  unsigned wanted = IORING_SETUP_CQSIZE | IORING_SETUP_R_DISABLED;
  if (opts_.single_issuer)
    wanted |= IORING_SETUP_SINGLE_ISSUER;
  if (opts_.single_issuer && opts_.defer_taskrun)
    wanted |= IORING_SETUP_DEFER_TASKRUN;
  else
    wanted |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  if (opts_.submit_all)
    wanted |= IORING_SETUP_SUBMIT_ALL;
  const unsigned drop_order[] = {
      IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_SINGLE_ISSUER,
      IORING_SETUP_SUBMIT_ALL,    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      IORING_SETUP_R_DISABLED,    IORING_SETUP_CQSIZE};
  unsigned flags = wanted;
  for (std::size_t i = 0;; ++i) {
    io_uring_params p;
    std::memset(&p, 0, sizeof p);
    p.flags = flags;
    p.cq_entries = cq;
    int rc = io_uring_queue_init_params(opts_.entries, &ring, &p);
    if (rc == 0) {
      ++generation;
      setup_flags = flags;
      enabled = !(flags & IORING_SETUP_R_DISABLED);
      probe();
      return;
    }
    if (rc != -EINVAL || i == std::size(drop_order))
      throw boost::system::system_error(
          boost::system::error_code(-rc, boost::system::system_category()),
          setup_failure_message(-rc));
    flags &= ~drop_order[i];
    // Without DEFER_TASKRUN, ask for cooperative task running instead.
    if (drop_order[i] == IORING_SETUP_DEFER_TASKRUN)
      flags |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  }
}

void ring_state::probe() {
  std::fill(std::begin(probed_ops), std::end(probed_ops), 0);
  if (io_uring_probe* p = io_uring_get_probe_ring(&ring)) {
    for (unsigned op = 0; op <= p->last_op && op < 256; ++op)
      if (io_uring_opcode_supported(p, static_cast<int>(op)))
        probed_ops[op / 64] |= std::uint64_t{1} << (op % 64);
    io_uring_free_probe(p);
  }
}

ring_state::~ring_state() {
  io_uring_queue_exit(&ring);
  ::close(wake_fd);
}

void ring_state::bind_to_this_thread(bool idle) {
  auto self = std::this_thread::get_id();
  if (enabled && (!(setup_flags & IORING_SETUP_SINGLE_ISSUER) || owner == self))
    return;
  if (enabled) {
    if (!idle)
      throw boost::system::system_error(
          boost::system::error_code(EBUSY, boost::system::system_category()),
          "asio_uring::io_context: run from a new thread while operations started by the "
          "previous running thread are still in the kernel (IORING_SETUP_SINGLE_ISSUER binds "
          "the ring to one thread). Remedy: run the context from the thread that started "
          "them, or construct it with options.single_issuer = false");
    // Idle (at most the wake poll is armed, and it holds no user memory): a fresh ring for
    // this thread. Closing the old one cancels the poll.
    io_uring_queue_exit(&ring);
    ring = io_uring{};
    ring.ring_fd = -1; // if setup() throws, the destructor must not touch the old ring
    enabled = false;
    wake_armed = false;
    in_kernel = stash.size() - stash_pos; // CQEs already taken still count until handled
    setup();
  }
  if (!enabled) {
    // liburing 2.3 declares io_uring_enable_rings but does not export it: register directly.
    if (::syscall(__NR_io_uring_register, ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) <
        0)
      throw_errno(errno, "asio_uring::io_context: IORING_REGISTER_ENABLE_RINGS");
    enabled = true;
  }
  owner = self;
}

void ring_state::stash_cqes() {
  io_uring_cqe* cqe;
  while (io_uring_peek_cqe(&ring, &cqe) == 0) {
    if (cqe->user_data == wake_user_data) { // bookkeeping only: the poll is no longer armed
      wake_armed = false;
      --in_kernel;
    } else {
      stash.push_back(*cqe);
    }
    io_uring_cqe_seen(&ring, cqe);
  }
}

io_uring_sqe* ring_state::get_sqe() {
  for (;;) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring))
      return sqe;
    flush_full_sq();
  }
}

void ring_state::reserve_sqes(unsigned n) {
  while (io_uring_sq_space_left(&ring) < n)
    flush_full_sq();
}

// SQ full: flush it. If the kernel pushes back because the CQ overflowed, take the CQEs aside
// (they are handled by the run loop later; never inside an initiating call).
void ring_state::flush_full_sq() {
  int rc = io_uring_submit(&ring);
  if (rc == -EBUSY || rc == -EAGAIN) {
    stash_cqes();
    io_uring_get_events(&ring);
    stash_cqes();
  } else if (rc < 0 && rc != -EINTR) {
    throw_errno(-rc, "asio_uring: io_uring_submit");
  }
}

} // namespace asio_uring::detail
