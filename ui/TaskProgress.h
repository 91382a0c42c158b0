// A long task's progress in the status bar: what it is doing, a bar (or a
// busy bar when the total is unknown), and Cancel. One task at a time; the
// widget hides when none runs. The task asks isCancelled() between its steps
// and undoes what it started (an export leaves no file behind).
#pragma once

#include <QElapsedTimer>
#include <QWidget>

class QLabel;
class QProgressBar;
class QToolButton;

namespace eventdesk {

class TaskProgress final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TaskProgress)
public:
    explicit TaskProgress(QWidget *parent = nullptr);

    // false: another task is running (the caller says so and does not start).
    bool begin(const QString &what, qint64 total);
    void update(qint64 done);
    void finish();
    bool isRunning() const { return m_running; }
    bool isCancelled() const { return m_cancelled; }
    QToolButton *cancelButton() const { return m_cancel; }

Q_SIGNALS:
    void cancelRequested();

private:
    QLabel *m_label;
    QProgressBar *m_bar;
    QToolButton *m_cancel;
    QString m_what;
    qint64 m_total = 0;
    bool m_running = false;
    bool m_cancelled = false;
    QElapsedTimer m_clock;
};

} // namespace eventdesk
