//! Partial dates ("1982", "1982-05", "1982-05-17") and event times (an instant or an
//! interval in UTC, keeping the original text and time zone as found in the source).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A calendar date known to year, month or day precision, as FollowTheMoney dates are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PartialDate {
    pub year: i32,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

/// Why a text is not a partial date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a date: {reason}; write it as YYYY, YYYY-MM or YYYY-MM-DD")]
pub struct PartialDateError {
    pub text: String,
    pub reason: &'static str,
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`. Rejects `0000-00-00` and impossible days.
    pub fn parse(text: &str) -> Result<PartialDate, PartialDateError> {
        let err = |reason| PartialDateError {
            text: text.to_string(),
            reason,
        };
        let trimmed = text.trim();
        let mut parts = trimmed.split('-');
        let year_text = parts.next().ok_or_else(|| err("it is empty"))?;
        if year_text.len() != 4 || !year_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("the year must have four digits"));
        }
        let year: i32 = year_text.parse().map_err(|_| err("bad year"))?;
        if year == 0 {
            return Err(err("year 0000 is a placeholder, not a date"));
        }
        let month = match parts.next() {
            None => None,
            Some(m) if m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()) => {
                let m: u8 = m.parse().map_err(|_| err("bad month"))?;
                if !(1..=12).contains(&m) {
                    return Err(err("the month must be 01 to 12"));
                }
                Some(m)
            }
            Some(_) => return Err(err("the month must have two digits")),
        };
        let day = match parts.next() {
            None => None,
            Some(d) if d.len() == 2 && d.bytes().all(|b| b.is_ascii_digit()) => {
                let d: u8 = d.parse().map_err(|_| err("bad day"))?;
                let m = month.ok_or_else(|| err("a day needs a month"))?;
                if NaiveDate::from_ymd_opt(year, u32::from(m), u32::from(d)).is_none() {
                    return Err(err("that day does not exist in that month"));
                }
                Some(d)
            }
            Some(_) => return Err(err("the day must have two digits")),
        };
        if parts.next().is_some() {
            return Err(err("too many parts"));
        }
        Ok(PartialDate { year, month, day })
    }

    /// The precision as FtM names it.
    pub fn precision(&self) -> &'static str {
        match (self.month, self.day) {
            (None, _) => "year",
            (Some(_), None) => "month",
            (Some(_), Some(_)) => "day",
        }
    }

    /// The first day this partial date can mean (for sorting and range filters).
    pub fn earliest(&self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(
            self.year,
            u32::from(self.month.unwrap_or(1)),
            u32::from(self.day.unwrap_or(1)),
        )
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl From<NaiveDate> for PartialDate {
    fn from(date: NaiveDate) -> Self {
        PartialDate {
            year: date.year(),
            month: Some(date.month() as u8),
            day: Some(date.day() as u8),
        }
    }
}

/// When an event happened: an instant, or an interval, in UTC milliseconds since the epoch.
/// The text and zone the source gave are kept so that a reader can always check the
/// conversion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTime {
    /// Start (or the instant), UTC milliseconds since 1970-01-01.
    pub start_ms: i64,
    /// End of an interval, UTC milliseconds; `None` for an instant.
    pub end_ms: Option<i64>,
    /// The time exactly as written in the source, if it came from one.
    pub original_text: Option<String>,
    /// The time zone the source text was read in (IANA name or offset such as "+01:00").
    pub original_zone: Option<String>,
}

impl EventTime {
    /// An instant with no source text (for example entered by hand in UTC).
    pub fn instant(at: DateTime<Utc>) -> EventTime {
        EventTime {
            start_ms: at.timestamp_millis(),
            end_ms: None,
            original_text: None,
            original_zone: None,
        }
    }

    /// The start as a UTC date-time (saturating to the epoch for out-of-range values).
    pub fn start(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.start_ms).unwrap_or_default()
    }

    /// The end as a UTC date-time, if this is an interval.
    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.end_ms.and_then(DateTime::from_timestamp_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_parse_and_print_back() {
        for text in ["1982", "1982-05", "1982-05-17", "2024-02-29"] {
            let date = PartialDate::parse(text).unwrap();
            assert_eq!(date.to_string(), text);
        }
        assert_eq!(PartialDate::parse("1982").unwrap().precision(), "year");
        assert_eq!(PartialDate::parse("1982-05").unwrap().precision(), "month");
    }

    #[test]
    fn impossible_dates_are_rejected_with_a_reason() {
        for text in [
            "0000-00-00",
            "1982-13",
            "2023-02-29",
            "82",
            "1982-5",
            "",
            "1982-05-17-1",
        ] {
            let err = PartialDate::parse(text).unwrap_err();
            assert!(err.to_string().contains(text), "{err}");
        }
    }
}
