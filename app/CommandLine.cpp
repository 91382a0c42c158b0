#include "CommandLine.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {

struct CommandInfo {
    QString name;
    QString summary;
};

const QList<CommandInfo> &commands()
{
    static const QList<CommandInfo> all = {
        {u"serve"_s, u"host the bus and the session server without a GUI"_s},
        {u"publish"_s, u"publish events (--json, a file or stdin of JSON lines); prints ids"_s},
        {u"tail"_s, u"print events (--world, --type, --from-id, --follow, --format)"_s},
        {u"replay"_s, u"ask a running server to replay an id range"_s},
        {u"export"_s, u"write events as JSON lines or CSV"_s},
        {u"import"_s, u"read events from JSON lines (all or nothing)"_s},
        {u"prune"_s, u"archive and delete events older than a cutoff"_s},
        {u"stats"_s, u"counts per type and world, rates, challenge success"_s},
        {u"challenge"_s, u"add or list a world's challenges"_s},
        {u"simulate"_s, u"play a realistic game session onto the bus"_s},
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
    text += u"\nRun 'eventdesk COMMAND --help' for a command's options.\n"_s;
    return text;
}

} // namespace

int run(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"eventdesk"_s);
    QCoreApplication::setOrganizationName(u"EventDesk"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(EVENTDESK_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(u"Event monitor and session host for a tabletop-RPG game engine."_s);
    parser.addVersionOption();
    const QCommandLineOption help({u"h"_s, u"help"_s}, u"Show this help."_s);
    parser.addOption(help);
    parser.addPositionalArgument(u"command"_s, u"The command to run (none: open the window)."_s);
    parser.parse(app.arguments());
    if (parser.isSet(help)) {
        QTextStream(stdout) << overview();
        return 0;
    }
    if (parser.isSet(u"version"_s)) {
        QTextStream(stdout) << "eventdesk " << QCoreApplication::applicationVersion() << '\n';
        return 0;
    }
    QTextStream(stderr) << "eventdesk: this build has no commands yet\n";
    return 1;
}

} // namespace eventdesk::app
