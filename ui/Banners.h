// The strips above the log that say what the DM is looking at: "view as" a
// client (with Exit and Esc), the active filter (with Clear filters), and the
// empty states, which say what to do next instead of showing a blank grid.
#pragma once

#include <QFrame>

class QLabel;
class QPushButton;

namespace eventdesk {

// One line of text and one button on a tinted strip.
class Banner final : public QFrame
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Banner)
public:
    enum class Tone { Notice, Neutral };
    Banner(Tone tone, const QString &buttonText, QWidget *parent = nullptr);

    void setText(const QString &text);
    QString text() const;
    QPushButton *button() const { return m_button; }

Q_SIGNALS:
    void buttonClicked();
    void linkActivated(const QString &link);

private:
    QLabel *m_text;
    QPushButton *m_button;
};

// What a view of the log shows when it has no rows: a title, a line of advice
// with links, drawn over the empty table.
class EmptyState final : public QFrame
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EmptyState)
public:
    explicit EmptyState(QWidget *parent = nullptr);
    void setContent(const QString &title, const QString &adviceHtml);
    QString title() const;

Q_SIGNALS:
    void linkActivated(const QString &link);

private:
    QLabel *m_title;
    QLabel *m_advice;
};

} // namespace eventdesk
