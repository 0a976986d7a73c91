//! The embeddings and network sections: their numbers as raw little-endian
//! arrays, so that a phone copies them instead of decoding value by value
//! (a 128-d network over 100k items holds 25.6 million int8 values).

use super::tables::Reader;
use super::Embeddings;
use crate::error::PackError;
use crate::network::SequenceNetwork;

fn put_f32s(out: &mut Vec<u8>, values: &[f32]) {
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
}

fn put_embeddings(out: &mut Vec<u8>, e: &Embeddings) {
    out.extend_from_slice(&u32::from(e.dim).to_le_bytes());
    put_f32s(out, &e.scales);
    out.extend_from_slice(&(e.values.len() as u32).to_le_bytes());
    out.extend(e.values.iter().map(|&v| v as u8));
}

fn read_embeddings(r: &mut Reader<'_>, section: &'static str) -> Result<Embeddings, PackError> {
    let dim = u16::try_from(r.u32()?).map_err(|_| PackError::Malformed(section))?;
    Ok(Embeddings { dim, scales: r.f32s()?, values: r.i8s()? })
}

/// The embeddings section: the width (u32), the per-item scales and the values.
pub(super) fn embeddings_to_wire(e: &Embeddings) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + 4 * e.scales.len() + e.values.len());
    put_embeddings(&mut out, e);
    out
}

/// Reads an embeddings section (shapes are checked against the catalogue later).
pub(super) fn embeddings_from_wire(body: &[u8]) -> Result<Embeddings, PackError> {
    let mut r = Reader::new(body, "embeddings");
    let embeddings = read_embeddings(&mut r, "embeddings")?;
    r.finish()?;
    Ok(embeddings)
}

/// The network section: its input embeddings, then the hidden layer, its bias
/// and the output bias, each a count and f32 values.
pub(super) fn network_to_wire(net: &SequenceNetwork) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + 4 * (net.input.scales.len() + net.hidden.len() + net.output_bias.len()) + net.input.values.len());
    put_embeddings(&mut out, &net.input);
    for values in [&net.hidden, &net.hidden_bias, &net.output_bias] {
        put_f32s(&mut out, values);
    }
    out
}

/// Reads a network section (shapes are checked against the catalogue later).
pub(super) fn network_from_wire(body: &[u8]) -> Result<SequenceNetwork, PackError> {
    let mut r = Reader::new(body, "network");
    let input = read_embeddings(&mut r, "network")?;
    let network = SequenceNetwork { input, hidden: r.f32s()?, hidden_bias: r.f32s()?, output_bias: r.f32s()? };
    r.finish()?;
    Ok(network)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_read_back_and_every_truncation_is_refused() {
        let net = crate::network::tests::successor_network(3);
        let wire = network_to_wire(&net);
        assert_eq!(network_from_wire(&wire).unwrap(), net);
        for len in 0..wire.len() {
            assert_eq!(network_from_wire(&wire[..len]), Err(PackError::Malformed("network")), "truncated to {len}");
        }
        let embeddings = Embeddings::quantise(2, &[1.0, -0.5, 0.25, 2.0]);
        let mut wire = embeddings_to_wire(&embeddings);
        assert_eq!(embeddings_from_wire(&wire).unwrap(), embeddings);
        wire.push(0);
        assert_eq!(embeddings_from_wire(&wire), Err(PackError::Malformed("embeddings")), "trailing bytes");
        // A count of 2^32 - 1 values with nothing behind it allocates nothing.
        let mut huge = 2u32.to_le_bytes().to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(embeddings_from_wire(&huge), Err(PackError::Malformed("embeddings")));
    }
}
