# One image for every service: the command picks which (all, router, accounts, agents, …).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
ENV HOST=0.0.0.0 PORT=4000
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schema ./schema
# The skills catalog installed from (SKILLS_CATALOG_DIR's default).
COPY --from=build /app/subgraphs/agents/skills/catalog ./subgraphs/agents/skills/catalog
RUN mkdir -p /app/.data && chown node /app/.data
USER node
EXPOSE 4000
ENTRYPOINT ["node", "dist/launcher/main.js"]
CMD ["all"]
