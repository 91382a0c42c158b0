// What every headless command shares: the common options of DESIGN §6, one
// parser per command with its own --help, and the exit statuses (0 ok,
// 1 failure, 2 bad usage), each failure one clear line on stderr.
#pragma once

#include "Progress.h"

#include <QThread>

#include <functional>

#include "BusSetup.h"

#include <QCommandLineParser>
#include <QFuture>
#include <QStringList>

#include <functional>
#include <optional>

namespace eventdesk::app {

enum ExitStatus { ExitOk = 0, ExitFailure = 1, ExitUsage = 2 };

struct CommonOptions {
    QString db;
    QString bus;
    QString listen;
    QString joinCode;
    QString dmToken;
    bool verbose = false;
};

class CommandParser
{
public:
    CommandParser(const QString &command, const QString &description, const QString &positional = {},
                  const QString &positionalHelp = {});

    QCommandLineParser &parser() { return m_parser; }
    void addOption(const QCommandLineOption &option) { m_parser.addOption(option); }

    // Parses; on --help prints help and returns ExitOk, on a bad option prints
    // one line and returns ExitUsage; otherwise nullopt (go on).
    std::optional<int> parse(const QStringList &arguments);
    CommonOptions common() const;
    BusConfig busConfig(bool readOnly = false) const;

    // Option values with checking: integers, ids, durations.
    std::optional<qint64> integer(const QString &name, qint64 fallback, qint64 minimum, qint64 maximum, int *status);

private:
    QString m_command;
    QCommandLineParser m_parser;
    QCommandLineOption m_help;
};

// Waits for a future of the store (its worker thread resolves it).
template <typename T>
T wait(QFuture<T> f)
{
    f.waitForFinished();
    return f.result();
}

// wait(), drawing progress meanwhile: done() (and total(), when given) are
// asked a few times a second.
template <typename T>
T waitShowing(QFuture<T> f, Progress &progress, const std::function<qint64()> &done,
              const std::function<qint64()> &total = {})
{
    while (!f.isFinished()) {
        if (total)
            progress.setTotal(total());
        progress.update(done());
        QThread::msleep(40);
    }
    if (total)
        progress.setTotal(total());
    progress.update(done(), true);
    return f.result();
}

// "30s", "5m", "2h", "7d" → seconds, with only the units in `units` allowed;
// a bare number counts as seconds when bareIsSeconds. nullopt if it is not one.
std::optional<qint64> parseSpan(QStringView text, QStringView units, bool bareIsSeconds = false);

// SIGINT/SIGTERM end the event loop cleanly (serve's clients get a close frame).
void quitOnSignals();

int fail(const QString &message);        // "eventdesk: message" on stderr, returns ExitFailure
int usage(const QString &message);
int failWith(const Error &error);        // usage() for a Usage error, else fail()       // the same, returns ExitUsage
void printOut(const QByteArray &bytes);  // stdout, unbuffered enough for pipes
void setVerbose(bool verbose);

// Commands; each gets argv starting with the program name.
int publishCommand(const QStringList &args);
int tailCommand(const QStringList &args);
int forwardCommand(const QStringList &args);
int exportCommand(const QStringList &args);
int importCommand(const QStringList &args);
int statsCommand(const QStringList &args);
int challengeCommand(const QStringList &args);
int notifyCommand(const QStringList &args);
int nameCommand(const QStringList &args);
int indexCommand(const QStringList &args);
int pruneCommand(const QStringList &args);
int serveCommand(const QStringList &args);
int recordCommand(const QStringList &args);
int replayCommand(const QStringList &args);
int simulateCommand(const QStringList &args);

} // namespace eventdesk::app
