#include "Cli.h"

#include "LogFormat.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QProcessEnvironment>
#include <QSocketNotifier>

#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {
const QCommandLineOption dbOption(u"db"_s, u"The SQLite database to use (default: EventDesk's own)."_s, u"path"_s);
const QCommandLineOption busOption(u"bus"_s, u"The bus: sqlite (the database, default) or redis://[:password@]host:port/db?stream=NAME."_s, u"url"_s);
const QCommandLineOption listenOption(u"listen"_s, u"Session server address (default 127.0.0.1:7878)."_s, u"host:port"_s);
const QCommandLineOption joinCodeOption(u"join-code"_s, u"The players' join code (or EVENTDESK_JOIN_CODE)."_s, u"code"_s);
const QCommandLineOption dmTokenOption(u"dm-token"_s, u"The DM token (or EVENTDESK_DM_TOKEN)."_s, u"token"_s);
const QCommandLineOption verboseOption(u"verbose"_s, u"Log what the bus does on stderr."_s);
const QCommandLineOption createOption(u"create"_s, u"Make --db a new database even if the file is empty or is an SQLite "
                                                   "file without an app_events table (otherwise such a file is refused)."_s);

int signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(signalPipe[1], &c, 1);
}
} // namespace

void quitOnSignals()
{
    if (signalPipe[0] >= 0 || ::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0)
        return;
    auto *notifier = new QSocketNotifier(signalPipe[0], QSocketNotifier::Read, QCoreApplication::instance());
    QObject::connect(notifier, &QSocketNotifier::activated, QCoreApplication::instance(), [] {
        char c;
        [[maybe_unused]] const auto n = ::read(signalPipe[0], &c, 1);
        QCoreApplication::quit();
    });
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
}

CommandParser::CommandParser(const QString &command, const QString &description, const QString &positional,
                             const QString &positionalHelp)
    : m_command(command)
    , m_help({u"h"_s, u"help"_s}, u"Show this help."_s)
{
    m_parser.setApplicationDescription(description);
    m_parser.addOption(m_help);
    for (const QCommandLineOption &o : {dbOption, busOption, listenOption, joinCodeOption, dmTokenOption, verboseOption, createOption})
        m_parser.addOption(o);
    if (!positional.isEmpty())
        m_parser.addPositionalArgument(positional, positionalHelp);
}

std::optional<int> CommandParser::parse(const QStringList &arguments)
{
    if (!m_parser.parse(arguments))
        return usage(u"%1: %2"_s.arg(m_command, m_parser.errorText()));
    if (m_parser.isSet(m_help)) {
        QString help = m_parser.helpText();
        // Qt names the program by argv[0]; say the command as typed.
        help.replace(u"Usage: "_s + QCoreApplication::arguments().value(0), u"Usage: eventdesk "_s + m_command);
        std::fputs(help.toLocal8Bit().constData(), stdout);
        return ExitOk;
    }
    setVerbose(m_parser.isSet(verboseOption));
    return std::nullopt;
}

CommonOptions CommandParser::common() const
{
    CommonOptions o;
    o.db = m_parser.value(dbOption);
    o.bus = m_parser.value(busOption);
    o.listen = m_parser.value(listenOption);
    o.joinCode = m_parser.isSet(joinCodeOption) ? m_parser.value(joinCodeOption)
                                                : QProcessEnvironment::systemEnvironment().value(u"EVENTDESK_JOIN_CODE"_s);
    o.dmToken = m_parser.isSet(dmTokenOption) ? m_parser.value(dmTokenOption)
                                              : QProcessEnvironment::systemEnvironment().value(u"EVENTDESK_DM_TOKEN"_s);
    o.verbose = m_parser.isSet(verboseOption);
    return o;
}

BusConfig CommandParser::busConfig(bool readOnly) const
{
    BusConfig c;
    c.databasePath = m_parser.value(dbOption);
    c.busUrl = m_parser.value(busOption);
    c.readOnly = readOnly;
    c.createInExisting = m_parser.isSet(createOption);
    return c;
}

std::optional<qint64> CommandParser::integer(const QString &name, qint64 fallback, qint64 minimum, qint64 maximum,
                                             int *status)
{
    if (!m_parser.isSet(name))
        return fallback;
    bool ok = false;
    const qint64 v = m_parser.value(name).toLongLong(&ok);
    if (!ok || v < minimum || v > maximum) {
        *status = usage(u"--%1 must be a whole number from %2 to %3, not '%4'"_s.arg(name).arg(minimum).arg(maximum).arg(
            m_parser.value(name).left(40)));
        return std::nullopt;
    }
    return v;
}

std::optional<qint64> parseSpan(QStringView text, QStringView units, bool bareIsSeconds)
{
    text = text.trimmed();
    qsizetype digits = 0;
    while (digits < text.size() && text.at(digits).isDigit())
        ++digits;
    if (digits == 0)
        return std::nullopt;
    bool ok = false;
    const qint64 n = text.first(digits).toLongLong(&ok);
    const QStringView unit = text.sliced(digits).trimmed();
    if (!ok || unit.size() > 1 || (unit.isEmpty() && !bareIsSeconds) || (!unit.isEmpty() && !units.contains(unit.at(0))))
        return std::nullopt;
    const QChar u = unit.isEmpty() ? u's' : unit.at(0);
    const qint64 scale = u == u's' ? 1 : u == u'm' ? 60 : u == u'h' ? 3600 : 86400;
    if (n > std::numeric_limits<qint64>::max() / (scale * 1000))
        return std::nullopt;
    return n * scale;
}

int fail(const QString &message)
{
    note(message, "error");
    return ExitFailure;
}

int failWith(const Error &error)
{
    return error.code == ErrorCode::Usage ? usage(error.message) : fail(error.message);
}

int usage(const QString &message)
{
    note(message, "error");
    return ExitUsage;
}

void printOut(const QByteArray &bytes)
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

void setVerbose(bool verbose)
{
    // Commands report their own errors in one line; the bus's log is for --verbose.
    QLoggingCategory::setFilterRules(verbose ? u"eventdesk.*=true"_s : u"eventdesk.*=false"_s);
}

} // namespace eventdesk::app
