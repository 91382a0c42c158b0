#include "CommandLine.h"

#include "Cli.h"
#include "GuiMain.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QTextStream>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {

struct CommandInfo {
    QString name;
    QString summary;
    std::function<int(const QStringList &)> run;
};

const QList<CommandInfo> &commands()
{
    static const QList<CommandInfo> all = {
        {u"serve"_s, u"host the bus and the session server without a GUI"_s, serveCommand},
        {u"publish"_s, u"publish events (--json, a file or stdin of JSON lines); prints ids"_s, publishCommand},
        {u"tail"_s, u"print events (--world, --type, --from-id, --follow, --format)"_s, tailCommand},
        {u"replay"_s, u"ask a running server to replay an id range"_s, replayCommand},
        {u"export"_s, u"write events as JSON lines or CSV"_s, exportCommand},
        {u"import"_s, u"read events from JSON lines (all or nothing)"_s, importCommand},
        {u"prune"_s, u"archive and delete events older than a cutoff"_s, pruneCommand},
        {u"stats"_s, u"counts per type and world, rates, challenge success"_s, statsCommand},
        {u"challenge"_s, u"add or list a world's challenges"_s, challengeCommand},
        {u"name"_s, u"give a world or character (a UUID) a display name"_s, nameCommand},
        {u"notify"_s, u"webhooks: POST chosen events to a URL (JSON, Discord, Slack); test one"_s, notifyCommand},
        {u"index"_s, u"build the row index the filters read, with progress (the log is only read)"_s, indexCommand},
        {u"forward"_s, u"bridge a database's app_events into a Redis stream, each row once"_s, forwardCommand},
        {u"simulate"_s, u"play a realistic game session onto the bus"_s, simulateCommand},
        {u"record"_s, u"keep every message today's engine sends (--engine ws://…/ws --world W)"_s, recordCommand},
    };
    return all;
}

QString overview()
{
    QString text = u"Usage: eventdesk [options] [command] [command options]\n\n"
                   "With no command, opens the EventDesk window on the default database.\n\n"
                   "Commands:\n"_s;
    for (const CommandInfo &c : commands())
        text += u"  %1  %2\n"_s.arg(c.name, -10).arg(c.summary);
    text += u"\nCommon options: --db PATH, --bus URL, --listen HOST:PORT, --join-code CODE,\n"
            "--dm-token TOKEN (or EVENTDESK_DM_TOKEN), --create, --verbose.\n"
            "Run 'eventdesk COMMAND --help' for a command's options.\n"_s;
    return text;
}

// Global options that take a value, so that "--db tail.db tail" finds the right command.
bool takesValue(const QString &arg)
{
    static const QStringList withValue = {u"--db"_s, u"--bus"_s, u"--listen"_s, u"--join-code"_s, u"--dm-token"_s};
    return withValue.contains(arg);
}

} // namespace

int run(int argc, char *argv[])
{
    QStringList args;
    for (int i = 0; i < argc; ++i)
        args.append(QString::fromLocal8Bit(argv[i]));

    int commandAt = -1;
    for (int i = 1; i < args.size(); ++i) {
        if (takesValue(args.at(i))) {
            ++i;
            continue;
        }
        if (!args.at(i).startsWith(u'-')) {
            commandAt = i;
            break;
        }
    }

    QCoreApplication::setApplicationName(u"eventdesk"_s);
    QCoreApplication::setOrganizationName(u"EventDesk"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(EVENTDESK_VERSION));

    if (commandAt < 0) {
        if (args.contains(u"--version"_s) || args.contains(u"-v"_s)) {
            std::fputs("eventdesk " EVENTDESK_VERSION "\n", stdout);
            return ExitOk;
        }
        if (args.contains(u"--help"_s) || args.contains(u"-h"_s)) {
            std::fputs(overview().toLocal8Bit().constData(), stdout);
            return ExitOk;
        }
        return runGui(argc, argv);
    }

    const QString name = args.at(commandAt);
    for (const CommandInfo &c : commands()) {
        if (c.name == name) {
            // Headless: Qt's own event dispatcher. GLib's walks a list on every
            // socket notifier change, which a thousand players' sockets feel.
            if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
                qputenv("QT_NO_GLIB", "1");
            QCoreApplication app(argc, argv);
            QStringList commandArgs = args;
            commandArgs.removeAt(commandAt);
            commandArgs[0] = u"eventdesk "_s + name;
            return c.run(commandArgs);
        }
    }
    return usage(u"unknown command '%1'; run 'eventdesk --help' for the list"_s.arg(name));
}

} // namespace eventdesk::app
