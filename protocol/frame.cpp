#include "protocol/frame.hpp"
