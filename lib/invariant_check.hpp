// Private: the registry behind detail/invariant_check.hpp (a no-op unless enabled).
#pragma once

#include <asio_uring/detail/op_block.hpp>

namespace asio_uring::detail::invariant {

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

} // namespace asio_uring::detail::invariant
