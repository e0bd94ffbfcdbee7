#include "protocol/codec.hpp"
