// Compiles Boost.Asio's separately-compiled part once for the project's tests, examples and
// benchmarks (BOOST_ASIO_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
