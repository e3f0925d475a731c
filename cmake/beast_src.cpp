// Compiles Boost.Beast's separately-compiled part once for the project's tests, examples and
// benchmarks (BOOST_BEAST_SEPARATE_COMPILATION).
#include <boost/beast/src.hpp>
