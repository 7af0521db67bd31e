//! Intelligence grading. A grading scheme is data stored with the case: NATO/Admiralty 6x6
//! (the default), UK 3x5x2, the legacy 5x5x5, or a custom one. Source reliability and
//! information credibility are kept separately, plus a handling code. Ungraded stays ungraded:
//! an item without a grading is never shown or filtered as if it had a default grade.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One level of one axis of a scheme, for example "B" = "Usually reliable".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeLevel {
    pub code: String,
    pub description: String,
}

/// A grading scheme. Levels are listed best first, so a lower index is a better grade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradingScheme {
    /// Short stable key, for example `admiralty`.
    pub key: String,
    pub name: String,
    /// Source reliability (or source evaluation) levels, best first.
    pub source_levels: Vec<GradeLevel>,
    /// Information credibility (or intelligence assessment) levels, best first.
    pub information_levels: Vec<GradeLevel>,
    /// Handling codes; for some of them dissemination needs an override with a reason.
    pub handling_codes: Vec<GradeLevel>,
    /// Handling codes that forbid dissemination (exports are blocked unless overridden).
    #[serde(default)]
    pub no_dissemination_codes: Vec<String>,
}

/// A grade as given to one item. Each axis may be unknown on its own. Unknown keys are
/// refused (a spec's `info = "2"` for `information` must not drop the grade unseen).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grading {
    /// The key of the scheme the codes belong to.
    pub scheme: String,
    pub source: Option<String>,
    pub information: Option<String>,
    pub handling: Option<String>,
}

/// A parsed threshold such as "B2 or better".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grade {
    pub scheme: String,
    pub source: String,
    pub information: String,
}

/// Why a grade or scheme is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GradingError {
    #[error("unknown grading scheme '{0}'; the case's information lists the schemes it has")]
    UnknownScheme(String),
    #[error("'{code}' is not a {axis} level of scheme '{scheme}' (levels: {levels})")]
    UnknownLevel {
        scheme: String,
        axis: &'static str,
        code: String,
        levels: String,
    },
    #[error(
        "'{0}' is not a grade: write the source code then the information code, for example B2"
    )]
    Unparsable(String),
    #[error("grading scheme '{0}' is not valid: {1}")]
    BadScheme(String, String),
}

fn levels(pairs: &[(&str, &str)]) -> Vec<GradeLevel> {
    pairs
        .iter()
        .map(|(code, description)| GradeLevel {
            code: (*code).to_string(),
            description: (*description).to_string(),
        })
        .collect()
}

impl GradingScheme {
    /// NATO / Admiralty code (STANAG 2511): source A-F, information 1-6.
    pub fn admiralty() -> GradingScheme {
        GradingScheme {
            key: "admiralty".into(),
            name: "NATO / Admiralty 6x6".into(),
            source_levels: levels(&[
                ("A", "Completely reliable"),
                ("B", "Usually reliable"),
                ("C", "Fairly reliable"),
                ("D", "Not usually reliable"),
                ("E", "Unreliable"),
                ("F", "Reliability cannot be judged"),
            ]),
            information_levels: levels(&[
                ("1", "Confirmed by other sources"),
                ("2", "Probably true"),
                ("3", "Possibly true"),
                ("4", "Doubtful"),
                ("5", "Improbable"),
                ("6", "Truth cannot be judged"),
            ]),
            handling_codes: levels(&[
                ("OPEN", "May be disseminated"),
                ("RESTRICTED", "Disseminate only within the agency"),
                ("NODISSEM", "Do not disseminate"),
            ]),
            no_dissemination_codes: vec!["NODISSEM".into()],
        }
    }

    /// UK 3x5x2 (College of Policing): source 1-3, intelligence A-E, handling P or C.
    pub fn uk_3x5x2() -> GradingScheme {
        GradingScheme {
            key: "uk-3x5x2".into(),
            name: "UK 3x5x2".into(),
            source_levels: levels(&[("1", "Reliable"), ("2", "Untested"), ("3", "Not reliable")]),
            information_levels: levels(&[
                ("A", "Known to be true without reservation"),
                ("B", "Known personally to the source but not to the officer"),
                ("C", "Not known personally to the source but corroborated"),
                ("D", "Cannot be judged"),
                ("E", "Suspected to be false or malicious"),
            ]),
            handling_codes: levels(&[
                ("P", "Lawful sharing permitted"),
                ("C", "Lawful sharing permitted with conditions"),
            ]),
            no_dissemination_codes: vec!["C".into()],
        }
    }

    /// The legacy UK 5x5x5: source A-E, intelligence 1-5, handling 1-5.
    pub fn legacy_5x5x5() -> GradingScheme {
        GradingScheme {
            key: "5x5x5".into(),
            name: "UK 5x5x5 (legacy)".into(),
            source_levels: levels(&[
                ("A", "Always reliable"),
                ("B", "Mostly reliable"),
                ("C", "Sometimes reliable"),
                ("D", "Unreliable"),
                ("E", "Untested source"),
            ]),
            information_levels: levels(&[
                ("1", "Known to be true without reservation"),
                ("2", "Known personally to the source but not to the officer"),
                ("3", "Not personally known to the source but corroborated"),
                ("4", "Cannot be judged"),
                ("5", "Suspected to be false"),
            ]),
            handling_codes: levels(&[
                ("1", "May be disseminated to other law enforcement agencies"),
                ("2", "May be disseminated to UK non-prosecuting parties"),
                (
                    "3",
                    "May be disseminated to non-EU law enforcement agencies",
                ),
                (
                    "4",
                    "May be disseminated within the originating agency only",
                ),
                ("5", "No further dissemination: refer to the originator"),
            ]),
            no_dissemination_codes: vec!["4".into(), "5".into()],
        }
    }

    /// The schemes every new case starts with; the first is the default.
    pub fn builtin() -> Vec<GradingScheme> {
        vec![
            GradingScheme::admiralty(),
            GradingScheme::uk_3x5x2(),
            GradingScheme::legacy_5x5x5(),
        ]
    }

    /// Checks that a (custom) scheme is usable: a key, levels on both axes, no duplicate codes.
    pub fn validate(&self) -> Result<(), GradingError> {
        let bad = |why: &str| Err(GradingError::BadScheme(self.key.clone(), why.to_string()));
        if self.key.trim().is_empty() {
            return bad("the key is empty");
        }
        if self.source_levels.is_empty() || self.information_levels.is_empty() {
            return bad("both the source and the information axis need at least one level");
        }
        for axis in [
            &self.source_levels,
            &self.information_levels,
            &self.handling_codes,
        ] {
            let mut codes: Vec<&str> = axis.iter().map(|l| l.code.as_str()).collect();
            codes.sort_unstable();
            if codes.windows(2).any(|w| w[0] == w[1]) {
                return bad("a code appears twice on one axis");
            }
            if codes.iter().any(|c| c.trim().is_empty()) {
                return bad("a code is empty");
            }
        }
        Ok(())
    }

    fn rank(levels: &[GradeLevel], code: &str) -> Option<usize> {
        levels
            .iter()
            .position(|l| l.code.eq_ignore_ascii_case(code))
    }

    /// Checks that every code of a grading belongs to this scheme.
    pub fn check(&self, grading: &Grading) -> Result<(), GradingError> {
        let unknown = |axis, code: &str, levels: &[GradeLevel]| GradingError::UnknownLevel {
            scheme: self.key.clone(),
            axis,
            code: code.to_string(),
            levels: levels
                .iter()
                .map(|l| l.code.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        if let Some(code) = &grading.source
            && Self::rank(&self.source_levels, code).is_none()
        {
            return Err(unknown("source", code, &self.source_levels));
        }
        if let Some(code) = &grading.information
            && Self::rank(&self.information_levels, code).is_none()
        {
            return Err(unknown("information", code, &self.information_levels));
        }
        if let Some(code) = &grading.handling
            && Self::rank(&self.handling_codes, code).is_none()
        {
            return Err(unknown("handling", code, &self.handling_codes));
        }
        Ok(())
    }

    /// Parses a threshold such as "B2" (Admiralty) or "1A" (3x5x2): the source code followed
    /// by the information code.
    pub fn parse_grade(&self, text: &str) -> Result<Grade, GradingError> {
        let text = text.trim();
        for split in 1..text.len() {
            if !text.is_char_boundary(split) {
                continue;
            }
            let (source, information) = text.split_at(split);
            if let (Some(s), Some(i)) = (
                Self::rank(&self.source_levels, source),
                Self::rank(&self.information_levels, information),
            ) {
                return Ok(Grade {
                    scheme: self.key.clone(),
                    source: self.source_levels[s].code.clone(),
                    information: self.information_levels[i].code.clone(),
                });
            }
        }
        Err(GradingError::Unparsable(text.to_string()))
    }

    /// Whether an item's grading meets a threshold ("B2 or better"): both axes must be known
    /// and at least as good as the threshold's. Ungraded items, and items graded under another
    /// scheme, do not meet any threshold.
    pub fn meets(&self, grading: Option<&Grading>, threshold: &Grade) -> bool {
        let Some(grading) = grading else {
            return false;
        };
        if grading.scheme != self.key || threshold.scheme != self.key {
            return false;
        }
        let axis_ok = |levels: &[GradeLevel], have: &Option<String>, need: &str| match have {
            Some(have) => match (Self::rank(levels, have), Self::rank(levels, need)) {
                (Some(h), Some(n)) => h <= n,
                _ => false,
            },
            None => false,
        };
        axis_ok(&self.source_levels, &grading.source, &threshold.source)
            && axis_ok(
                &self.information_levels,
                &grading.information,
                &threshold.information,
            )
    }

    /// The weaker of two gradings (for "weakest grade along a path"); ungraded is weakest.
    pub fn weaker<'a>(
        &self,
        a: Option<&'a Grading>,
        b: Option<&'a Grading>,
    ) -> Option<&'a Grading> {
        let score = |g: Option<&Grading>| -> Option<(usize, usize)> {
            let g = g?;
            Some((
                g.source
                    .as_deref()
                    .and_then(|c| Self::rank(&self.source_levels, c))
                    .unwrap_or(usize::MAX),
                g.information
                    .as_deref()
                    .and_then(|c| Self::rank(&self.information_levels, c))
                    .unwrap_or(usize::MAX),
            ))
        };
        match (score(a), score(b)) {
            (None, _) => None,
            (_, None) => None,
            (Some(sa), Some(sb)) => {
                if sa.0.max(sa.1) >= sb.0.max(sb.1) {
                    a
                } else {
                    b
                }
            }
        }
    }

    /// Whether a handling code forbids dissemination without an audited override.
    pub fn forbids_dissemination(&self, grading: Option<&Grading>) -> bool {
        grading
            .and_then(|g| g.handling.as_deref())
            .is_some_and(|h| {
                self.no_dissemination_codes
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(h))
            })
    }
}

impl fmt::Display for Grading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            self.source.as_deref().unwrap_or("?"),
            self.information.as_deref().unwrap_or("?")
        )?;
        if let Some(h) = &self.handling {
            write!(f, " {h}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graded(scheme: &str, s: &str, i: &str) -> Grading {
        Grading {
            scheme: scheme.into(),
            source: Some(s.into()),
            information: Some(i.into()),
            handling: None,
        }
    }

    #[test]
    fn builtin_schemes_are_valid() {
        for scheme in GradingScheme::builtin() {
            scheme.validate().unwrap();
        }
    }

    #[test]
    fn thresholds_compare_both_axes_and_ungraded_never_passes() {
        let adm = GradingScheme::admiralty();
        let b2 = adm.parse_grade("B2").unwrap();
        assert!(adm.meets(Some(&graded("admiralty", "A", "1")), &b2));
        assert!(adm.meets(Some(&graded("admiralty", "B", "2")), &b2));
        assert!(!adm.meets(Some(&graded("admiralty", "A", "3")), &b2));
        assert!(!adm.meets(Some(&graded("admiralty", "C", "1")), &b2));
        assert!(!adm.meets(None, &b2));
        let half = Grading {
            information: None,
            ..graded("admiralty", "A", "1")
        };
        assert!(!adm.meets(Some(&half), &b2));
    }

    #[test]
    fn uk_grades_parse_source_first() {
        let uk = GradingScheme::uk_3x5x2();
        let g = uk.parse_grade("1A").unwrap();
        assert_eq!((g.source.as_str(), g.information.as_str()), ("1", "A"));
        assert!(uk.parse_grade("A1").is_err());
    }

    #[test]
    fn unknown_codes_are_named() {
        let adm = GradingScheme::admiralty();
        let err = adm.check(&graded("admiralty", "G", "1")).unwrap_err();
        assert!(err.to_string().contains("'G'"), "{err}");
    }

    #[test]
    fn weaker_picks_the_worse_grade_and_ungraded_is_weakest() {
        let adm = GradingScheme::admiralty();
        let a1 = graded("admiralty", "A", "1");
        let c3 = graded("admiralty", "C", "3");
        assert_eq!(adm.weaker(Some(&a1), Some(&c3)), Some(&c3));
        assert_eq!(adm.weaker(Some(&a1), None), None);
    }
}
