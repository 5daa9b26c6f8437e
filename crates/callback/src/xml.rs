//! A small, safe XML tree: what WeCom's callback XML needs and nothing more.
//!
//! Parsing refuses DTDs (`<!DOCTYPE ...>`) and every entity reference other than XML's five
//! predefined ones and character references, limits nesting depth, and never recurses, so
//! hostile input can neither expand entities nor exhaust the stack. Attributes are ignored
//! (WeCom's callback XML has none).

use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::events::Event as XmlEvent;

use crate::error::CallbackError;

/// Deepest nesting accepted (WeCom's deepest callback, an approval, nests about 7 levels).
pub const MAX_DEPTH: usize = 32;

/// One XML element: its name, its text (CDATA and text concatenated) and its child elements.
///
/// Used for the parts of a callback that are kept as a tree rather than typed (for example an
/// approval's `ApprovalInfo`), and for the raw XML of unknown callbacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Tag name, e.g. `ApprovalInfo`.
    pub name: String,
    /// Text content (unescaped); usually empty when the element has children.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// An element with text and no children.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            text: text.into(),
            children: Vec::new(),
        }
    }

    /// An element with children and no text.
    pub fn node(name: impl Into<String>, children: Vec<Element>) -> Self {
        Element {
            name: name.into(),
            text: String::new(),
            children,
        }
    }

    /// Parse a document; the root element is returned.
    ///
    /// Refuses DTDs, custom entities, unbalanced tags, text outside the root and nesting
    /// deeper than [`MAX_DEPTH`].
    ///
    /// ```
    /// use wecom_callback::xml::Element;
    /// let root = Element::parse("<xml><A><![CDATA[x]]></A><B>1 &lt; 2</B></xml>").unwrap();
    /// assert_eq!(root.text_of("A"), Some("x"));
    /// assert_eq!(root.text_of("B"), Some("1 < 2"));
    /// assert!(Element::parse("<!DOCTYPE x [<!ENTITY e 'boom'>]><xml>&e;</xml>").is_err());
    /// ```
    pub fn parse(xml: &str) -> Result<Element, CallbackError> {
        let mut reader = Reader::from_str(xml);
        let mut stack: Vec<Element> = Vec::with_capacity(4);
        let mut root: Option<Element> = None;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| CallbackError::parse(format!("malformed XML: {e}")))?;
            match event {
                XmlEvent::Start(start) => {
                    if root.is_some() {
                        return Err(CallbackError::parse("content after the root element"));
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(CallbackError::parse(format!(
                            "XML nested deeper than {MAX_DEPTH} levels"
                        )));
                    }
                    stack.push(Element {
                        name: name_of(start.name().as_ref())?,
                        ..Element::default()
                    });
                }
                XmlEvent::Empty(start) => {
                    let element = Element {
                        name: name_of(start.name().as_ref())?,
                        ..Element::default()
                    };
                    attach(&mut stack, &mut root, element)?;
                }
                XmlEvent::End(_) => {
                    // quick-xml checks that end names match their start tags.
                    let element = stack
                        .pop()
                        .ok_or_else(|| CallbackError::parse("unexpected closing tag"))?;
                    attach(&mut stack, &mut root, element)?;
                }
                XmlEvent::Text(text) => {
                    let text = text
                        .decode()
                        .map_err(|e| CallbackError::parse(format!("bad text encoding: {e}")))?;
                    push_text(&mut stack, &text)?;
                }
                XmlEvent::CData(cdata) => {
                    let text = cdata
                        .decode()
                        .map_err(|e| CallbackError::parse(format!("bad CDATA encoding: {e}")))?;
                    push_text(&mut stack, &text)?;
                }
                XmlEvent::GeneralRef(reference) => {
                    let ch = match reference.resolve_char_ref() {
                        Ok(Some(ch)) => ch,
                        Ok(None) => match reference.as_ref() {
                            b"lt" => '<',
                            b"gt" => '>',
                            b"amp" => '&',
                            b"apos" => '\'',
                            b"quot" => '"',
                            _ => {
                                return Err(CallbackError::parse(
                                    "entity references are refused (only &lt; &gt; &amp; &apos; &quot; and &#N; are accepted)",
                                ));
                            }
                        },
                        Err(_) => return Err(CallbackError::parse("invalid character reference")),
                    };
                    let mut buf = [0u8; 4];
                    push_text(&mut stack, ch.encode_utf8(&mut buf))?;
                }
                XmlEvent::DocType(_) => {
                    return Err(CallbackError::parse("DTDs (<!DOCTYPE ...>) are refused"));
                }
                XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::Comment(_) => {}
                XmlEvent::Eof => break,
            }
        }
        if !stack.is_empty() {
            return Err(CallbackError::parse("unclosed element at end of input"));
        }
        root.ok_or_else(|| CallbackError::parse("no root element"))
    }

    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this name, in order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child with this name.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// Render as XML (text as CDATA where it needs escaping). Never recurses.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(64);
        self.write_xml(&mut out);
        out
    }

    /// Append this element's XML to `out`.
    pub fn write_xml(&self, out: &mut String) {
        // (element, index of the next child to write)
        let mut stack: Vec<(&Element, usize)> = vec![(self, 0)];
        open_tag(out, &self.name);
        push_text_value(out, &self.text);
        while let Some((element, next)) = stack.last_mut() {
            if let Some(child) = element.children.get(*next) {
                *next += 1;
                open_tag(out, &child.name);
                push_text_value(out, &child.text);
                stack.push((child, 0));
            } else {
                close_tag(out, &element.name);
                stack.pop();
            }
        }
    }
}

fn name_of(raw: &[u8]) -> Result<String, CallbackError> {
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| CallbackError::parse("element name is not UTF-8"))
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), CallbackError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None if root.is_none() => *root = Some(element),
        None => return Err(CallbackError::parse("more than one root element")),
    }
    Ok(())
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), CallbackError> {
    match stack.last_mut() {
        Some(top) => top.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err(CallbackError::parse("text outside the root element")),
    }
    Ok(())
}

pub(crate) fn open_tag(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

pub(crate) fn close_tag(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Text as-is when safe, otherwise as CDATA.
fn push_text_value(out: &mut String, text: &str) {
    if text.contains(['<', '&', '>', '\r']) {
        push_cdata_value(out, text);
    } else {
        out.push_str(text);
    }
}

/// `<![CDATA[text]]>`, splitting any `]]>` inside the text so it stays one value.
pub(crate) fn push_cdata_value(out: &mut String, text: &str) {
    out.push_str("<![CDATA[");
    let mut rest = text;
    while let Some(at) = rest.find("]]>") {
        out.push_str(&rest[..at + 2]);
        out.push_str("]]><![CDATA[");
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out.push_str("]]>");
}

/// `<name><![CDATA[text]]></name>`.
pub(crate) fn push_cdata(out: &mut String, name: &str, text: &str) {
    open_tag(out, name);
    push_cdata_value(out, text);
    close_tag(out, name);
}

/// `<name>value</name>` for numbers.
pub(crate) fn push_num(out: &mut String, name: &str, value: impl std::fmt::Display) {
    open_tag(out, name);
    // Writing to a String cannot fail.
    let _ = write!(out, "{value}");
    close_tag(out, name);
}
