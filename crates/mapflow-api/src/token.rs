//! The Mapflow API token: base64 of `email:key`, sent unchanged as Basic auth.

use base64::Engine as _;

/// A checked API token. Its `Debug` never prints the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    raw: String,
    email: String,
}

/// Why a token was refused before any request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is empty")]
    Empty,
    #[error("the token is not valid base64")]
    NotBase64,
    #[error("the token does not decode to email:key")]
    NotEmailKey,
}

impl Token {
    /// Checks that `raw` is base64 of `email:key` (padding optional) and keeps it as given.
    pub fn parse(raw: &str) -> Result<Self, TokenError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(TokenError::Empty);
        }
        let mut padded = raw.to_owned();
        while !padded.len().is_multiple_of(4) {
            padded.push('=');
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(padded.as_bytes())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(padded.as_bytes()))
            .map_err(|_| TokenError::NotBase64)?;
        let text = String::from_utf8(bytes).map_err(|_| TokenError::NotEmailKey)?;
        let (email, key) = text.split_once(':').ok_or(TokenError::NotEmailKey)?;
        if email.trim().is_empty() || key.is_empty() {
            return Err(TokenError::NotEmailKey);
        }
        Ok(Self { raw: raw.to_owned(), email: email.trim().to_owned() })
    }

    /// Builds the token for `email` and `key`, as the account page does.
    pub fn from_parts(email: &str, key: &str) -> Self {
        let raw = base64::engine::general_purpose::STANDARD.encode(format!("{email}:{key}"));
        Self { raw, email: email.to_owned() }
    }

    /// The email the token encodes.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The token as the user pasted it, to be sent unchanged.
    pub fn expose(&self) -> &str {
        &self.raw
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({}, ***)", self.email)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_email_and_keeps_raw() {
        let t = Token::from_parts("a@b.c", "k3y");
        let parsed = Token::parse(t.expose()).unwrap();
        assert_eq!(parsed.email(), "a@b.c");
        assert_eq!(parsed.expose(), t.expose());
        // Missing padding is accepted.
        let unpadded = t.expose().trim_end_matches('=');
        assert_eq!(Token::parse(unpadded).unwrap().email(), "a@b.c");
        assert!(!format!("{parsed:?}").contains("k3y"));
    }

    #[test]
    fn refuses_malformed() {
        assert_eq!(Token::parse(""), Err(TokenError::Empty));
        assert_eq!(Token::parse("not base64!!"), Err(TokenError::NotBase64));
        // base64 of "nocolon"
        assert_eq!(Token::parse("bm9jb2xvbg=="), Err(TokenError::NotEmailKey));
    }
}
