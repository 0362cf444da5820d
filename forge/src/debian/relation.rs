//! Dependency fields of binary packages (`Depends`, `Pre-Depends`, `Provides`) as deb-control(5)
//! writes them: `a (>= 1.0) | b:any, c`.

use super::version::Relation;

/// One alternative inside a dependency group: `name[:arch] [(op version)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    pub name: String,
    /// Architecture qualifier after `:` (`any`, `native` or an architecture name).
    pub arch: Option<String>,
    pub constraint: Option<(Relation, String)>,
}

impl std::fmt::Display for Alternative {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if let Some(arch) = &self.arch {
            write!(f, ":{arch}")?;
        }
        if let Some((op, v)) = &self.constraint {
            write!(f, " ({} {v})", op.as_str())?;
        }
        Ok(())
    }
}

/// A comma-separated group member: satisfied by any one of its alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group(pub Vec<Alternative>);

impl std::fmt::Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, alt) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{alt}")?;
        }
        Ok(())
    }
}

/// Parses a `Depends`-style field. Architecture restrictions (`[amd64]`) and build profiles
/// (`<!nocheck>`) belong to source packages only; in a binary index they mean a broken or
/// hostile index, so they are refused instead of silently ignored.
pub fn parse_depends(field: &str) -> Result<Vec<Group>, String> {
    let mut groups = Vec::new();
    for group in field.split(',') {
        let group = group.trim();
        if group.is_empty() {
            continue;
        }
        let alternatives = group
            .split('|')
            .map(parse_alternative)
            .collect::<Result<Vec<_>, _>>()?;
        groups.push(Group(alternatives));
    }
    Ok(groups)
}

/// Parses a `Provides` field: a plain list, each entry optionally `(= version)`.
pub fn parse_provides(field: &str) -> Result<Vec<Alternative>, String> {
    let mut provides = Vec::new();
    for item in field.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let alt = parse_alternative(item)?;
        if let Some((op, _)) = &alt.constraint {
            if *op != Relation::Eq {
                return Err(format!("`Provides: {item}` may only use `=`"));
            }
        }
        provides.push(alt);
    }
    Ok(provides)
}

fn parse_alternative(text: &str) -> Result<Alternative, String> {
    let text = text.trim();
    if text.contains(['[', ']', '<', '>']) && !text.contains('(') {
        return Err(format!(
            "`{text}`: architecture restrictions or build profiles do not belong in a binary package"
        ));
    }
    let (head, constraint) = match text.split_once('(') {
        Some((head, rest)) => {
            let inner = rest
                .strip_suffix(')')
                .ok_or_else(|| {
                    format!(
                        "`{text}`: version constraint must end with `)` and nothing may follow it"
                    )
                })?
                .trim();
            let split = inner
                .find(|c: char| !matches!(c, '<' | '>' | '='))
                .unwrap_or(inner.len());
            let (op, version) = inner.split_at(split);
            let op = Relation::parse(op.trim())
                .ok_or_else(|| format!("`{text}`: unknown relation `{op}`"))?;
            let version = version.trim();
            if version.is_empty() || version.contains(char::is_whitespace) {
                return Err(format!("`{text}`: bad version `{version}`"));
            }
            (head.trim(), Some((op, version.to_string())))
        }
        None => (text, None),
    };
    let (name, arch) = match head.split_once(':') {
        Some((name, arch)) => (name, Some(arch.to_string())),
        None => (head, None),
    };
    let valid_name = name.len() >= 2
        && name.bytes().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.')
        });
    if !valid_name {
        return Err(format!("`{text}`: bad package name `{name}`"));
    }
    Ok(Alternative {
        name: name.to_string(),
        arch,
        constraint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_alternatives_constraints_and_qualifiers() {
        let deps = parse_depends(
            "libc6 (>= 2.38), debconf (>= 0.5) | debconf-2.0, python3:any (<< 3.14~),perl:native",
        )
        .unwrap();
        assert_eq!(deps.len(), 4);
        assert_eq!(
            deps[0].0[0].constraint,
            Some((Relation::GreaterEq, "2.38".into()))
        );
        assert_eq!(deps[1].0.len(), 2);
        assert_eq!(deps[1].0[1].name, "debconf-2.0");
        assert_eq!(deps[2].0[0].arch.as_deref(), Some("any"));
        assert_eq!(
            deps[2].0[0].constraint,
            Some((Relation::Less, "3.14~".into()))
        );
        assert_eq!(deps[3].0[0].arch.as_deref(), Some("native"));
        assert_eq!(deps[1].to_string(), "debconf (>= 0.5) | debconf-2.0");
    }

    #[test]
    fn provides_with_versions() {
        let p = parse_provides("libc-dev (= 2.41), awk").unwrap();
        assert_eq!(p[0].constraint, Some((Relation::Eq, "2.41".into())));
        assert!(parse_provides("x (>= 1)").is_err());
    }

    #[test]
    fn source_only_syntax_and_garbage_are_refused() {
        assert!(parse_depends("foo [amd64]").is_err());
        assert!(parse_depends("foo <!nocheck>").is_err());
        assert!(parse_depends("foo (~= 1)").is_err());
        assert!(parse_depends("Foo").is_err());
        assert!(parse_depends("foo (>= 1) bar").is_err());
    }
}
