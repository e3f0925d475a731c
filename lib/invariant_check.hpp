// Private: the registry behind detail/invariant_check.hpp (a no-op unless enabled).
#pragma once

#include <asio_uring/detail/op_block.hpp>

namespace asio_uring::detail::invariant {

#ifdef ASIO_URING_INVARIANT_CHECKS

/// Records what an SQE about to be submitted for `op` points at.
void on_submit(const op_block* op) noexcept;
/// The op's final CQE arrived: the kernel is done with its memory.
void on_final_cqe(const op_block* op) noexcept;
/// The op block is about to be freed or recycled.
void on_free(const op_block* op) noexcept;
/// A block goes into the pool's cache: fill it (after its free-list link) with a canary.
void fill_canary(void* block, std::size_t size) noexcept;
/// A cached block is taken or released: a damaged canary means something (the kernel, for an
/// op freed too early) wrote into it while it was free. Counted as a violation.
void check_canary(const void* block, std::size_t size) noexcept;

#else // nothing on the op path of a build without the checks

inline void on_submit(const op_block*) noexcept {}
inline void on_final_cqe(const op_block*) noexcept {}
inline void on_free(const op_block*) noexcept {}
inline void fill_canary(void*, std::size_t) noexcept {}
inline void check_canary(const void*, std::size_t) noexcept {}

#endif

} // namespace asio_uring::detail::invariant
