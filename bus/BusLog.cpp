#include "BusLog.h"

Q_LOGGING_CATEGORY(lcStore, "eventdesk.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcNotify, "eventdesk.notify", QtInfoMsg)
Q_LOGGING_CATEGORY(lcSession, "eventdesk.session", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRedis, "eventdesk.redis", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRecord, "eventdesk.record", QtInfoMsg)
