#include "ModelLog.h"

Q_LOGGING_CATEGORY(lcModel, "eventdesk.model", QtInfoMsg)
