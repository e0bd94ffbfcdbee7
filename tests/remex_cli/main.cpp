// Test runner for the CLI's pure parts.
#define CAF_SUITE remex_cli
#include "caf/test/unit_test.hpp"
#include "caf/test/unit_test_impl.hpp"
