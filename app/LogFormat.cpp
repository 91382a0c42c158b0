#include "LogFormat.h"

#include "EventCodec.h"

#include <QDateTime>
#include <QMutex>
#include <QMutexLocker>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {

LogFormat g_format = LogFormat::Text;
QMutex g_mutex;  // messages come from every thread; lines must not interleave

void writeJson(const char *level, const QString &category, const QString &message)
{
    QByteArray line = "{\"time\":";
    codec::appendString(line, QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
    line += ",\"level\":\"";
    line += level;
    line += "\",\"category\":";
    codec::appendString(line, category);
    line += ",\"message\":";
    codec::appendString(line, message);  // control characters, quotes and newlines escaped: one line, always
    line += "}\n";
    QMutexLocker lock(&g_mutex);
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
}

const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return "debug";
    case QtInfoMsg: return "info";
    case QtWarningMsg: return "warning";
    case QtCriticalMsg: return "error";
    case QtFatalMsg: return "fatal";
    }
    return "info";
}

void jsonHandler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    writeJson(levelName(type), context.category ? QString::fromUtf8(context.category) : u"default"_s, message);
}

} // namespace

void setLogFormat(LogFormat format)
{
    g_format = format;
    qInstallMessageHandler(format == LogFormat::Json ? jsonHandler : nullptr);
}

LogFormat logFormat()
{
    return g_format;
}

void note(const QString &text, const char *level)
{
    if (g_format == LogFormat::Json) {
        writeJson(level, u"eventdesk"_s, text);
        return;
    }
    QMutexLocker lock(&g_mutex);
    std::fprintf(stderr, "eventdesk: %s\n", text.toLocal8Bit().constData());
    std::fflush(stderr);
}

} // namespace eventdesk::app
