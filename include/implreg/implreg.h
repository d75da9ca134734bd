/* implreg/implreg.h — the whole public API of libimplreg. */
#ifndef IMPLREG_IMPLREG_H
#define IMPLREG_IMPLREG_H

#include "implreg/status.h"
#include "implreg/rng.h"
#include "implreg/linalg.h"
#include "implreg/data.h"
#include "implreg/stats.h"
#include "implreg/report.h"
#include "implreg/minnorm.h"
#include "implreg/features.h"
#include "implreg/nested.h"
#include "implreg/model.h"
#include "implreg/optim.h"
#include "implreg/theory.h"
#include "implreg/mlp.h"
#include "implreg/curvature.h"
#include "implreg/flow.h"
#include "implreg/igr.h"
#include "implreg/collect.h"
#include "implreg/sharpness.h"
#include "implreg/landscape.h"
#include "implreg/cells.h"
#include "implreg/flatness.h"
#include "implreg/widthsweep.h"
#include "implreg/hstudy.h"

#endif
