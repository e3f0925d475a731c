// Umbrella header: everything of asio-uring that does not need Beast.
#pragma once

#include <asio_uring/basic_waitable_timer.hpp>
#include <asio_uring/buffer_pool.hpp>
#include <asio_uring/buffer_traits.hpp>
#include <asio_uring/file_base.hpp>
#include <asio_uring/heap_buffer.hpp>
#include <asio_uring/io_context.hpp>
#include <asio_uring/io_context_options.hpp>
#include <asio_uring/posix/stream_descriptor.hpp>
#include <asio_uring/random_access_file.hpp>
#include <asio_uring/read.hpp>
#include <asio_uring/slice.hpp>
#include <asio_uring/steady_timer.hpp>
#include <asio_uring/stream_file.hpp>
#include <asio_uring/system_timer.hpp>
#include <asio_uring/write.hpp>
