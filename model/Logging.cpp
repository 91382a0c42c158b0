#include "Logging.h"

Q_LOGGING_CATEGORY(lcModel, "eventdesk.model", QtInfoMsg)
