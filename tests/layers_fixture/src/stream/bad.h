// A deliberate crossing: the stream runtime may not include the engine.
#pragma once
#include "engine/engine.h"
