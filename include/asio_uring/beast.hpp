// Everything of asio-uring that needs Boost.Beast: asio_uring::tcp_stream and Beast's
// customisation points (teardown, async_teardown, beast_close_socket) for asio_uring sockets.
#pragma once

#include <asio_uring/beast/tcp_stream.hpp>
#include <asio_uring/beast/teardown.hpp>
