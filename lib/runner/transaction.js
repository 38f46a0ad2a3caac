'use strict';
// One transaction on a pooled client: commit what `work` did, or roll it all back.

/** Runs `work(client)` between BEGIN and COMMIT; on any error rolls back and rethrows. */
async function transaction(pool, work) {
  const client = await pool.connect();
  let broken;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A connection that cannot even roll back is not handed to the next user.
    await client.query('ROLLBACK').catch((rollbackError) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

module.exports = { transaction };
